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

/** Latest time a lease may carry (year 2200): past it, or not a safe integer, a date is no date. */
const MAX_TIME_MS = 7_258_118_400_000;

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_TIME_MS;
}

/** A lease's own text fields: hpo writes a UUID token and the host name (any experiment name). */
function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

/**
 * A lease record read back (the bus's lease is a KV value anybody with write rights could have
 * replaced): the lease when every field is of its type and range, else undefined, which callers treat
 * as no lease at all (never as a rival driver with a date that is not one).
 */
export function parseOwnerLease(v: unknown): OwnerLease | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const ok =
    isText(r.token, 200) &&
    typeof r.pid === 'number' &&
    Number.isSafeInteger(r.pid) &&
    r.pid > 0 &&
    isText(r.host, 1000) &&
    typeof r.experiment === 'string' &&
    isTime(r.acquired_at) &&
    isTime(r.heartbeat_at);
  if (!ok) return undefined;
  return {
    token: r.token as string,
    pid: r.pid as number,
    host: r.host as string,
    experiment: r.experiment as string,
    acquired_at: r.acquired_at as number,
    heartbeat_at: r.heartbeat_at as number,
  };
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
