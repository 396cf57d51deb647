/**
 * Tells the open pages that the database changed: polls SQLite's `data_version` (one pragma, no table
 * read) every `intervalMs` while anyone listens, and sends each listener a numbered change event.
 */
import type { DashboardReader } from './reader.js';

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
  private timer: NodeJS.Timeout | undefined;
  private version: number;
  private seq = 0;
  private readonly intervalMs: number;

  constructor(
    private readonly reader: DashboardReader,
    options: ChangeFeedOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 200;
    this.version = reader.version();
  }

  /** The latest event (seq 0 before any change). */
  current(): ChangeEvent {
    return { seq: this.seq, epoch_row: this.reader.lastEpochRow(), at: Date.now() };
  }

  /** Calls `fn` on each change; returns the unsubscribe function. */
  subscribe(fn: (e: ChangeEvent) => void): () => void {
    this.listeners.add(fn);
    if (!this.timer) {
      this.version = this.reader.version();
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Checks now; returns true when the database changed since the last check. */
  poll(): boolean {
    const v = this.reader.version();
    if (v === this.version) return false;
    this.version = v;
    this.seq++;
    const event = this.current();
    for (const fn of this.listeners) fn(event);
    return true;
  }

  /** Changes seen so far (also counts polls made while nobody listened). */
  get changes(): number {
    return this.seq;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
