/**
 * The experiment store: the Store contract (types.ts: StoreReader, the read half, and Store), its SQLite
 * implementation, the read-only opener, errors and schema migrations.
 */
export * from './types.js';
export { storeCannotWriteNow } from './store-failure.js';
export { BUSY_TIMEOUT_MS, SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { openStore, openStoreReader, type OpenStoreReaderOptions } from './open-store.js';
export { parseTrialSort, trialSortProblem, type TrialSort } from './trial-sort.js';
export { WATCH_INTERVAL_MS } from './polling-watch.js';
export {
  NotOurDatabaseError,
  StoreError,
  type NotOurDatabaseReason,
  type StoreErrorOptions,
} from '../../shared/errors.js';
export {
  APPLICATION_ID,
  checkDatabase,
  inspectDatabase,
  migrate,
  MIGRATIONS,
  SCHEMA_VERSION,
  type DatabaseInfo,
  type Migration,
} from './migrations.js';
export {
  LEASE_HEARTBEAT_MS,
  LEASE_STALE_MS,
  leaseRefusal,
  parseOwnerLease,
  leaseState,
  OwnerLeaseError,
  pidAlive,
  type LeaseClock,
  type LeaseState,
  type OwnerClaim,
  type OwnerLease,
} from './owner-lease.js';
