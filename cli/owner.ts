/**
 * The owner lease of the experiment this process drives (orchestrator/store/owner-lease.ts): taken
 * before the search starts, renewed every LEASE_HEARTBEAT_MS, released at the end. A driver that finds
 * its lease taken over (it was frozen past --owner-timeout and someone used --force) stops at once
 * without touching the store or the bus: the new driver carries on.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { LEASE_HEARTBEAT_MS, type OwnerClaim, type Store } from '../orchestrator/store/index.js';

export interface OwnerFlags {
  force?: boolean;
  ownerTimeout?: number;
}

/** The lease's last heartbeat in the store (a real write, every LEASE_HEARTBEAT_MS): for readiness. */
export interface LeaseWrite {
  ok: boolean;
  /** ms since the epoch */
  at: number;
  error?: string;
}

export interface HeldLease {
  claim: OwnerClaim;
  lastWrite(): LeaseWrite;
  /** True once another driver took the lease over. */
  lost(): boolean;
  /** Stops the heartbeat and releases the lease (best effort, never rejects). */
  release(): Promise<void>;
}

export async function holdLease(
  store: Store,
  experiment: string,
  flags: OwnerFlags,
  staleMs: number,
  onLost: (message: string) => void = (message) => {
    process.stderr.write(`hpo: ${message}\n`);
    process.exit(1);
  },
): Promise<HeldLease> {
  const claim: OwnerClaim = { token: randomUUID(), pid: process.pid, host: hostname() };
  await store.acquireLease(experiment, claim, { staleMs, host: claim.host, force: flags.force });
  let write: LeaseWrite = { ok: true, at: Date.now() };
  let lost = false;
  let released = false;
  const beat = async () => {
    let ours: boolean;
    try {
      ours = await store.heartbeatLease(experiment, claim.token);
      write = { ok: true, at: Date.now() };
    } catch (err) {
      write = { ok: false, at: Date.now(), error: err instanceof Error ? err.message : String(err) };
      return; // the store cannot write now: the lease just ages
    }
    // A beat answered after our own release is not a takeover.
    if (!ours && !released) {
      lost = true;
      clearInterval(timer);
      const now = await store.getLease(experiment).catch(() => undefined);
      onLost(
        `lost the owner lease of experiment '${experiment}'` +
          (now ? ` to pid ${now.pid} on ${now.host}` : '') +
          ': stopping at once (the new driver carries on)',
      );
    }
  };
  const timer = setInterval(() => void beat(), LEASE_HEARTBEAT_MS);
  timer.unref();
  return {
    claim,
    lastWrite: () => write,
    lost: () => lost,
    async release() {
      released = true;
      clearInterval(timer);
      try {
        await store.releaseLease(experiment, claim.token);
      } catch {
        // a lease left behind is dead (its pid is gone) or expires
      }
    },
  };
}
