/**
 * Logs each distinct problem the first time, then at most once per interval with how many were
 * suppressed: a flood of bad messages cannot flood the log.
 */
import type { LogFields, Logger } from './create-logger.js';

export interface RateLimitedLogOptions {
  /** Default: one minute. */
  intervalMs?: number;
  /** Default: warn. */
  level?: 'debug' | 'info' | 'warn' | 'error';
}

export class RateLimitedLog {
  private readonly seen = new Map<string, { last: number; suppressed: number }>();
  private readonly intervalMs: number;
  private readonly level: NonNullable<RateLimitedLogOptions['level']>;

  constructor(
    private readonly logger: Logger,
    options: RateLimitedLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.level = options.level ?? 'warn';
  }

  /** `msg` (cut to 200 characters) with `fields`; the two together say whether it is the same problem. */
  report(msg: string, fields: LogFields = {}): void {
    const text = msg.slice(0, 200);
    const key = `${text}\u0000${JSON.stringify(fields).slice(0, 200)}`;
    const now = Date.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.last < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    if (this.seen.size >= 1000 && !entry) this.seen.clear();
    this.seen.set(key, { last: now, suppressed: 0 });
    const line = suppressed > 0 ? `${text} (and ${suppressed} more like it)` : text;
    this.logger[this.level](suppressed > 0 ? { ...fields, suppressed } : fields, line);
  }
}
