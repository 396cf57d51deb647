/**
 * Tells the open pages that the database changed: one watch on the store's change feed
 * (StoreReader.watch, SQLite: PRAGMA data_version polled every `intervalMs`) while anyone listens,
 * fanned out to each listener as a numbered change event.
 */
import type { StoreChange, StoreReader } from '../orchestrator/store/index.js';

export interface ChangeEvent {
  /** Increases by one per change seen. */
  seq: number;
  /** Highest epoch row id in the file (grows with every epoch recorded). */
  epoch_row: number;
  /** ms since the epoch, when the change was seen. */
  at: number;
}

export interface ChangeFeedOptions {
  /** Default 200 ms: a recorded epoch reaches the page well within a second. */
  intervalMs?: number;
}

export class ChangeFeed {
  private readonly listeners = new Set<(e: ChangeEvent) => void>();
  private unwatch: (() => void) | undefined;
  private seq = 0;
  private epochRow = 0;

  constructor(
    private readonly reader: StoreReader,
    private readonly options: ChangeFeedOptions = {},
  ) {}

  /** The latest event (seq 0 before any change). */
  async current(): Promise<ChangeEvent> {
    return { seq: this.seq, epoch_row: await this.reader.lastEpochRow(), at: Date.now() };
  }

  /** Calls `fn` on each change; returns the unsubscribe function. */
  subscribe(fn: (e: ChangeEvent) => void): () => void {
    this.listeners.add(fn);
    this.unwatch ??= this.reader.watch((change) => void this.changed(change), {
      intervalMs: this.options.intervalMs,
    });
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Changes seen so far. */
  get changes(): number {
    return this.seq;
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  private async changed(change: StoreChange): Promise<void> {
    const seq = ++this.seq;
    // A file that cannot be read this instant still changed: the page refetches anyway.
    this.epochRow = await this.reader.lastEpochRow().catch(() => this.epochRow);
    const event = { seq, epoch_row: this.epochRow, at: change.at };
    for (const fn of this.listeners) fn(event);
  }
}
