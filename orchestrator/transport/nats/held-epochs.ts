/**
 * Epoch events kept on the bus to be delivered again because their handler failed (mostly a store that
 * cannot write them for now, RetryLaterError: a full disk), by delivery. The result of the same delivery waits behind them: otherwise, as the back-off of
 * an event grows with its deliveries, a result published after its epochs comes back before them once
 * space returns, and the search may end (or the trial be final) with its epochs still on the bus.
 *
 * An epoch not seen again for `forgetAfterMs` (far over the longest back-off) no longer holds anything
 * back, so a lost epoch event (e.g. aged out of the stream) cannot hold its result forever.
 */
export interface EpochOf {
  experiment_id: string;
  trial_id: string;
  attempt: number;
  epoch: number;
}

/** Entries kept at most (every delivery of every experiment); past it, all are forgotten. */
const MAX_HELD = 100_000;

const deliveryKey = (e: Omit<EpochOf, 'epoch'>) => `${e.experiment_id}\0${e.trial_id}\0${e.attempt}`;

export class HeldEpochs {
  /** Delivery key -> epoch -> when it was last held back (ms). */
  private readonly held = new Map<string, Map<number, number>>();
  private size = 0;

  constructor(
    private readonly forgetAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The epoch's event is kept on the bus for now (its store write must wait). */
  hold(e: EpochOf): void {
    if (this.size >= MAX_HELD) this.clear();
    const k = deliveryKey(e);
    let epochs = this.held.get(k);
    if (!epochs) this.held.set(k, (epochs = new Map()));
    if (!epochs.has(e.epoch)) this.size++;
    epochs.set(e.epoch, this.now());
  }

  /** The epoch was recorded (or dropped for good). */
  release(e: EpochOf): void {
    const k = deliveryKey(e);
    const epochs = this.held.get(k);
    if (epochs?.delete(e.epoch)) this.size--;
    if (epochs?.size === 0) this.held.delete(k);
  }

  /** Epochs of the delivery still held back (seen within forgetAfterMs), ascending. */
  waiting(d: Omit<EpochOf, 'epoch'>): number[] {
    const epochs = this.held.get(deliveryKey(d));
    if (!epochs) return [];
    const since = this.now() - this.forgetAfterMs;
    for (const [epoch, at] of epochs) if (at < since) this.release({ ...d, epoch });
    return [...epochs.keys()].sort((a, b) => a - b);
  }

  private clear(): void {
    this.held.clear();
    this.size = 0;
  }
}
