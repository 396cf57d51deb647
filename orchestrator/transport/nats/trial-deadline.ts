/**
 * The in-flight trial deadline (`--trial-timeout`): a trial the orchestrator dispatched must show a sign
 * of life, or it is dispatched again (a new attempt, a new token) and, after a bounded number of such
 * timeouts, ends failed. Without it the orchestrator waits forever for a trial whose message someone
 * removed from the queue (a forged ack, a worker of another protocol that acked it away).
 *
 * Sign of life: an event of the trial's current delivery (started, epoch, decision request, result,
 * refusal), or its message still in the work queue. A message in the queue is queued, or held by a
 * worker that keeps it alive with `working()` (which the orchestrator cannot see, but whose effect it
 * can: the server keeps the message only while it is queued or held, redelivers it after `ack_wait`
 * and raises the max-deliveries advisory when no worker is left). So a long epoch, or a long wait in the
 * queue behind other trials, is never timed out; only a trial whose message is gone without a result
 * is. The check reads the message by its stream sequence (one `STREAM.MSG.GET` per overdue trial per
 * timeout, never for trials that report); a trial found gone gets one more full timeout for its result
 * to arrive (a result still on its way, a backlog of events) before it counts as lost. See docs/NATS.md.
 */
import { HpoError } from '../../../shared/errors.js';
import { childLogger, RateLimitedLog } from '../../../shared/log/index.js';
import { DEFAULT_ACK_WAIT_MS, DEFAULT_MAX_DELIVER, errorText } from '../../../shared/nats/connection.js';
import type { InFlight } from './deliveries.js';

export interface TrialDeadlineOptions {
  /** No sign of life for this long (ms) and the trial is lost. */
  timeoutMs: number;
  /** Timeouts of one trial (over its attempts) after which it ends failed instead (>= 1). */
  maxTimeouts: number;
  /** Every trial in flight. */
  inFlight: () => InFlight[];
  /** Whether the trial's message is still in the work queue (true when unknown: never a false alarm). */
  queued: (entry: InFlight) => Promise<boolean>;
  /** Dispatch it again (a new attempt). */
  redispatch: (entry: InFlight, reason: string) => Promise<void>;
  /** End it failed with `reason`. */
  fail: (entry: InFlight, reason: string) => Promise<void>;
  now?: () => number;
  log?: RateLimitedLog;
}

/** Timeouts of one trial before it ends failed. */
export const DEFAULT_MAX_TRIAL_TIMEOUTS = 3;

/** The default trial timeout: ack_wait x max_deliver (x 5 when max_deliver is unlimited). */
export function defaultTrialTimeoutMs(
  ackWaitMs = DEFAULT_ACK_WAIT_MS,
  maxDeliver = DEFAULT_MAX_DELIVER,
): number {
  return ackWaitMs * (maxDeliver > 0 ? maxDeliver : 5);
}

/** Overdue trials looked up per check at most (the rest wait for the next check). */
const CHECKS_PER_TICK = 200;

export class TrialDeadline {
  private timer?: NodeJS.Timeout;
  private ticking = false;
  /** Timeouts so far per trial (`<id>\0<trial>`), over its attempts. */
  private readonly timeouts = new Map<string, number>();
  private readonly now: () => number;
  private readonly log: RateLimitedLog;
  /** Trials found lost so far (for stats). */
  lost = 0;

  constructor(private readonly options: TrialDeadlineOptions) {
    if (!(options.timeoutMs >= 1000)) throw new HpoError('trialTimeoutMs must be at least 1000');
    if (!Number.isInteger(options.maxTimeouts) || options.maxTimeouts < 1)
      throw new HpoError('maxTrialTimeouts must be a positive integer');
    this.now = options.now ?? Date.now;
    this.log = options.log ?? new RateLimitedLog(childLogger({ component: 'trial-deadline' }));
  }

  start(): void {
    if (this.timer) return;
    const period = Math.min(5000, Math.max(250, Math.floor(this.options.timeoutMs / 4)));
    this.timer = setInterval(() => void this.tick(), period);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check of every overdue trial (exported for tests; skipped while the previous one runs). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.now();
      const overdue = this.options
        .inFlight()
        .filter((e) => now - e.lastSign >= this.options.timeoutMs)
        .slice(0, CHECKS_PER_TICK);
      for (const entry of overdue) await this.check(entry);
    } finally {
      this.ticking = false;
    }
  }

  private async check(entry: InFlight): Promise<void> {
    const sign = entry.lastSign;
    const queued = await this.options.queued(entry);
    if (entry.lastSign !== sign) return; // an event arrived meanwhile
    if (queued) {
      entry.lastSign = this.now();
      entry.gone = false;
      return;
    }
    if (!entry.gone) {
      // Just found gone: its result may be on its way. One more full timeout.
      entry.gone = true;
      entry.lastSign = this.now();
      return;
    }
    const key = `${entry.experimentId}\0${entry.trial_id}`;
    const n = (this.timeouts.get(key) ?? 0) + 1;
    this.timeouts.set(key, n);
    this.lost++;
    entry.lastSign = this.now();
    const seconds = Math.round(this.options.timeoutMs / 100) / 10;
    const why =
      `no sign of life for ${seconds} s (trial timeout): its message left the queue without a result ` +
      `(acked or removed by a client that did not run it)`;
    const fields = { experiment: entry.experiment, trial: entry.trial_id, attempt: entry.attempt };
    try {
      if (n >= this.options.maxTimeouts) {
        await this.options.fail(entry, `${why}; gave up after ${n} timeout(s)`);
      } else {
        this.log.report(
          `trial ${entry.trial_id} attempt ${entry.attempt}: ${why}; dispatching it again`,
          fields,
        );
        await this.options.redispatch(entry, why);
      }
      entry.gone = false;
    } catch (err) {
      // E.g. the store cannot write now: tried again after another timeout (still gone).
      this.timeouts.set(key, n - 1);
      this.lost--;
      this.log.report(`could not act on the timeout of trial ${entry.trial_id}: ${errorText(err)}`, fields);
    }
  }
}
