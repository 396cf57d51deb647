/** The pull loop: pull requests for the executor's free slots, each received message handed on. */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { ensureWorkersConsumer, errorText } from '../../shared/nats/connection.js';
import { type WorkerState, sleep } from './worker-state.js';

export class TrialPuller {
  private consumer?: Consumer;
  /** Messages requested by open pull requests and not yet received. */
  private outstanding = 0;
  private fetchLoops = 0;
  private readonly fetches = new Set<ConsumerMessages>();

  /**
   * @param take registers and runs a received message (called synchronously on receipt).
   * @param onLoopEnd called after a pull request ends (e.g. to check whether the worker is idle).
   */
  constructor(
    private readonly state: WorkerState,
    private readonly take: (msg: JsMsg) => void,
    private readonly onLoopEnd: () => void,
  ) {}

  /** Starts pulling from `consumer`. */
  start(consumer: Consumer): void {
    this.consumer = consumer;
    this.pump();
  }

  /** Pull requests still open. */
  active(): number {
    return this.fetchLoops;
  }

  /** Ends the open pull requests (draining). */
  async close(): Promise<void> {
    for (const fetch of this.fetches) await fetch.close().catch(() => undefined);
  }

  /** Opens pull requests for every free slot not already covered by one. */
  pump(): void {
    const { state } = this;
    if (state.stopping || !this.consumer) return;
    const free = state.executor.slots - state.held.size - this.outstanding;
    if (free <= 0) return;
    this.outstanding += free;
    this.fetchLoops++;
    void this.fetchBatch(this.consumer, free).finally(() => {
      this.fetchLoops--;
      this.pump();
      this.onLoopEnd();
    });
  }

  private async fetchBatch(consumer: Consumer, max: number): Promise<void> {
    const { state } = this;
    let received = 0;
    let failed = false;
    try {
      const batch = await consumer.fetch({
        max_messages: max,
        expires: state.options.fetchExpiresMs ?? 10_000,
      });
      this.fetches.add(batch);
      if (state.stopping) await batch.close().catch(() => undefined);
      try {
        for await (const msg of batch) {
          received++;
          this.outstanding--;
          if (state.stopping) msg.nak();
          else this.take(msg);
        }
      } finally {
        this.fetches.delete(batch);
      }
    } catch (err) {
      failed = true;
      if (!state.stopping) {
        state.counters.busErrors++;
        state.log.report(`pulling trials failed: ${errorText(err)}`);
      }
    }
    this.outstanding -= max - received;
    if (failed && !state.stopping) {
      await sleep(1000);
      if (state.jsm && !state.stopping) {
        // The consumer may have been deleted (or the server lost its state): recreate it.
        await ensureWorkersConsumer(state.jsm, state.names, state.settings, false).then(
          (s) => (state.settings = s),
          () => undefined,
        );
      }
    }
  }
}
