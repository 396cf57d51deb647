/**
 * One driver per experiment: the process running `hpo search`/`hpo resume` holds an owner lease (its
 * pid, host and a random token) and renews its heartbeat time every few seconds. Another driver is
 * refused while the lease is alive; a lease whose heartbeat stopped is expired (taken over only with
 * --force); a lease of a process that no longer exists on this host is dead (taken over at once).
 * The same rules serve the store's lease and the bus's (NATS KV) lease.
 */
import { UsageError } from '../../shared/errors.js';

export interface OwnerClaim {
  /** Random per driver process: identifies the holder (pid and host are for people). */
  token: string;
  pid: number;
  host: string;
}

export interface OwnerLease extends OwnerClaim {
  experiment: string;
  acquired_at: number;
  heartbeat_at: number;
}

/** How often a driver renews its lease. */
export const LEASE_HEARTBEAT_MS = 2000;
/** A lease without a heartbeat for this long is expired (default of --owner-timeout). */
export const LEASE_STALE_MS = 15_000;

export type LeaseState = 'alive' | 'expired' | 'dead';

export interface LeaseClock {
  now: number;
  staleMs: number;
  /** This machine's host name: a lease of this host whose pid is gone is dead. */
  host: string;
  pidAlive?: (pid: number) => boolean;
}

/** Whether a process of this machine exists (EPERM: it exists, under another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function leaseState(lease: OwnerLease, clock: LeaseClock): LeaseState {
  if (lease.host === clock.host && !(clock.pidAlive ?? pidAlive)(lease.pid)) return 'dead';
  return clock.now - lease.heartbeat_at <= clock.staleMs ? 'alive' : 'expired';
}

/** Another process drives the experiment (exit code 2: nothing was changed). */
export class OwnerLeaseError extends UsageError {
  constructor(
    message: string,
    readonly lease: OwnerLease,
    readonly state: LeaseState,
  ) {
    super(message);
  }
}

function ago(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s ago` : `${Math.round(ms / 60_000)} min ago`;
}

/**
 * Null when `claim` may take the lease (none, its own, dead, or expired with force); otherwise the
 * refusal to throw.
 */
export function leaseRefusal(
  current: OwnerLease | undefined,
  claim: OwnerClaim,
  clock: LeaseClock,
  force: boolean,
  where: string,
): OwnerLeaseError | null {
  if (!current || current.token === claim.token) return null;
  // Our own pid on this host under another token: an earlier life of this pid (a restarted container
  // is pid 1 again), not a live rival.
  if (current.host === clock.host && current.pid === claim.pid) return null;
  const state = leaseState(current, clock);
  if (state === 'dead' || (state === 'expired' && force)) return null;
  const holder = `pid ${current.pid} on ${current.host}`;
  const beat = `last heartbeat ${new Date(current.heartbeat_at).toISOString()} (${ago(clock.now - current.heartbeat_at)})`;
  return new OwnerLeaseError(
    state === 'alive'
      ? `experiment '${current.experiment}' is already driven by ${holder} (${where}; ${beat}): ` +
          'stop that process first (hpo status shows its progress)'
      : `experiment '${current.experiment}' was driven by ${holder} (${where}; ${beat}, no heartbeat since): ` +
          'if that process is gone, take over with --force',
    current,
    state,
  );
}
