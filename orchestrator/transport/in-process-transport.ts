/** Transport to an executor in the same process (the embedded default: a local thread pool). */
import type { TrialSpec } from '../../shared/protocol/index.js';
import { type TrialExecutor, TrialInterruptedError } from '../../shared/protocol/executor.js';
import { HpoError } from '../../shared/errors.js';
import { childLogger, type Logger } from '../../shared/log/index.js';
import type { Transport, TransportHandlers } from './transport.js';

export interface InProcessTransportOptions {
  /** Errors thrown by the handlers or the executor (default: logged as errors through `logger`). */
  onError?: (err: unknown) => void;
  /** Default: the process's logger. */
  logger?: Logger;
}

export class InProcessTransport implements Transport {
  readonly name = 'in-process';
  private handlers?: TransportHandlers;
  private readonly running = new Map<
    string,
    { experiment: string; controller: AbortController; done: Promise<void> }
  >();

  private readonly log: Logger;

  constructor(
    private readonly executor: TrialExecutor,
    private readonly options: InProcessTransportOptions = {},
  ) {
    this.log = options.logger ?? childLogger({ component: 'in-process-transport' });
  }

  async start(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
  }

  capacity(): number {
    return Math.max(0, this.executor.slots - this.running.size);
  }

  inFlight(): number {
    return this.running.size;
  }

  async submit(spec: TrialSpec): Promise<void> {
    const handlers = this.handlers;
    if (!handlers) throw new HpoError('transport not started: call start(handlers) before submit');
    const key = `${spec.experiment}\0${spec.trial_id}`;
    if (this.running.has(key)) return; // already running: a duplicate submit is a no-op
    const controller = new AbortController();
    const done = this.executor
      .run(spec, { onEpoch: (e) => handlers.onEpoch(e), signal: controller.signal })
      .then(
        (result) => {
          this.running.delete(key);
          return handlers.onResult(result);
        },
        (err) => {
          this.running.delete(key);
          if (!(err instanceof TrialInterruptedError)) throw err;
        },
      )
      .catch((err: unknown) => {
        if (this.options.onError) return this.options.onError(err);
        this.log.error(
          { err, experiment: spec.experiment, trial: spec.trial_id, attempt: spec.attempt },
          `trial handling failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
    this.running.set(key, { experiment: spec.experiment, controller, done });
  }

  async cancel(experiment: string, trialId?: string): Promise<void> {
    const ending: Promise<void>[] = [];
    for (const [key, r] of this.running) {
      if (r.experiment === experiment && (trialId === undefined || key === `${experiment}\0${trialId}`)) {
        r.controller.abort(new Error('cancelled'));
        ending.push(r.done.catch(() => {}));
      }
    }
    await Promise.all(ending);
  }

  async close(): Promise<void> {
    for (const r of this.running.values()) r.controller.abort(new Error('transport closed'));
    await Promise.all([...this.running.values()].map((r) => r.done.catch(() => {})));
    await this.executor.close();
  }
}
