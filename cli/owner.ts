/**
 * The owner lease of the experiment this process drives (orchestrator/store/owner-lease.ts): taken
 * before the search starts, renewed every LEASE_HEARTBEAT_MS, released at the end. A driver that finds
 * its lease taken over (it was frozen past --owner-timeout and someone used --force) stops at once
 * without touching the store or the bus: the new driver carries on.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { LEASE_HEARTBEAT_MS, type OwnerClaim, type SqliteStore } from '../orchestrator/store/index.js';

export interface OwnerFlags {
  force?: boolean;
  ownerTimeout?: number;
}

export interface HeldLease {
  claim: OwnerClaim;
  /** Stops the heartbeat and releases the lease (best effort). */
  release(): void;
}

export function holdLease(
  store: SqliteStore,
  experiment: string,
  flags: OwnerFlags,
  staleMs: number,
  onLost: (message: string) => void = (message) => {
    process.stderr.write(`hpo: ${message}\n`);
    process.exit(1);
  },
): HeldLease {
  const claim: OwnerClaim = { token: randomUUID(), pid: process.pid, host: hostname() };
  store.acquireLease(experiment, claim, { staleMs, host: claim.host, force: flags.force });
  const timer = setInterval(() => {
    let ours: boolean;
    try {
      ours = store.heartbeatLease(experiment, claim.token);
    } catch {
      return; // the store cannot write now: the lease just ages
    }
    if (!ours) {
      clearInterval(timer);
      const now = store.getLease(experiment);
      onLost(
        `lost the owner lease of experiment '${experiment}'` +
          (now ? ` to pid ${now.pid} on ${now.host}` : '') +
          ': stopping at once (the new driver carries on)',
      );
    }
  }, LEASE_HEARTBEAT_MS);
  timer.unref();
  return {
    claim,
    release() {
      clearInterval(timer);
      try {
        store.releaseLease(experiment, claim.token);
      } catch {
        // a lease left behind is dead (its pid is gone) or expires
      }
    },
  };
}
