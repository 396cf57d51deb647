/**
 * A change feed for a store that cannot be told of changes (SQLite; a server database without
 * LISTEN/NOTIFY): each watch asks the store's `version()` every `intervalMs` and calls its listener when
 * the version moved. One timer per watch, unref'd (a watch never keeps the process alive).
 */
import type { StoreChange, WatchOptions } from './types.js';

/** How often a watch polls unless told otherwise: a recorded epoch reaches a page well within a second. */
export const WATCH_INTERVAL_MS = 200;

export class PollingWatches {
  private readonly stops = new Set<() => void>();

  constructor(private readonly version: () => Promise<number>) {}

  watch(listener: (change: StoreChange) => void, options: WatchOptions = {}): () => void {
    let last: number | undefined;
    let busy = false;
    const poll = async () => {
      if (busy) return;
      busy = true;
      try {
        const v = await this.version();
        if (last !== undefined && v !== last && this.stops.has(stop))
          listener({ version: v, at: Date.now() });
        last = v;
      } catch {
        // a store that cannot be read now is asked again at the next tick
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void poll(), options.intervalMs ?? WATCH_INTERVAL_MS);
    timer.unref();
    const stop = () => {
      clearInterval(timer);
      this.stops.delete(stop);
    };
    this.stops.add(stop);
    void poll(); // the version when the watch began: a change is any move from it
    return stop;
  }

  /** Stops every watch (the store closes). */
  stopAll(): void {
    for (const stop of [...this.stops]) stop();
  }
}
