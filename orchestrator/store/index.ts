/** The experiment store: the Store contract, its SQLite implementation, errors and schema migrations. */
export * from './types.js';
export { storeCannotWriteNow } from './store-failure.js';
export { BUSY_TIMEOUT_MS, SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
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
