/**
 * Retrying JetStream calls that fail for a moment: on a cluster, a stream or the meta group electing a
 * new leader (a server killed, restarted, cut off) answers API calls and publishes with "no responders"
 * (which the client reports as `JetStreamNotEnabled`), a timeout, or "JetStream system temporarily
 * unavailable" for a few seconds; a single server restarting does the same while the client reconnects.
 * Such a call is tried again with back-off; any other error is thrown at once. See docs/RELIABILITY.md.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import {
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';

/** JetStream API error codes that say "try again": cluster not available, no leader yet. */
const TRANSIENT_API_CODES = new Set([10008, 10009, 10074]);
const TRANSIENT_TEXT =
  /no responders|timeout|timed out|temporarily unavailable|not currently available|leader|not enabled|disconnect|reconnect/i;

/** Whether `err` is a failure that the same call may not hit a moment later (an election, a reconnect). */
export function isTransientBusError(err: unknown): boolean {
  // The client's JetStreamNotEnabled (not exported) is how a 503 to a JetStream call surfaces.
  if (err instanceof TimeoutError || err instanceof NoRespondersError) return true;
  if (err instanceof Error && err.name === 'JetStreamNotEnabled') return true;
  if (err instanceof RequestError) return !(err.cause instanceof PermissionViolationError);
  if (err instanceof JetStreamApiError)
    return TRANSIENT_API_CODES.has(err.code) || err.status === 503 || TRANSIENT_TEXT.test(err.message);
  return (
    err instanceof Error && TRANSIENT_TEXT.test(err.message) && !/permission|authoriz/i.test(err.message)
  );
}

export interface RetryOptions {
  /** Give up (throw the last error) after this long (default 60 s). */
  withinMs?: number;
  /** Stop retrying when this says so (the connection closed, the process stopping). */
  stopped?: () => boolean;
  /** Told about each failure that will be retried (e.g. a rate-limited log). */
  onRetry?: (err: unknown, attempt: number) => void;
}

/** Runs `call`, again after a transient failure (250 ms doubling to 4 s) until it succeeds or time is up. */
export async function retryTransient<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const until = Date.now() + (options.withinMs ?? 60_000);
  for (let attempt = 1, wait = 250; ; attempt++, wait = Math.min(wait * 2, 4000)) {
    try {
      return await call();
    } catch (err) {
      if (!isTransientBusError(err) || options.stopped?.() || Date.now() + wait > until) throw err;
      options.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
