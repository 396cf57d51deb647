/**
 * Runs trials in a Piscina pool of worker threads, one trial per thread. Epoch reports come back over a
 * MessagePort handed to each task; the decision for each epoch goes back on the same port. Aborting a
 * trial kills its thread (Piscina replaces it).
 */
import { availableParallelism, hostname } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { type BackendChoice, mayUseNativeBackend } from '../backends/backend.js';
import { type ExecutionHooks, type TrialExecutor, TrialInterruptedError } from '../executor.js';
import {
  PROTOCOL_VERSION,
  type Decision,
  type ResultEvent,
  type TrialSpec,
} from '../../shared/protocol/index.js';
import type { MainMessage, ThreadMessage, ThreadResult, ThreadTask } from './messages.js';

export interface TrialPoolOptions {
  /** Trial threads (default: the machine's cores; 1 with a libtensorflow backend). */
  threads?: number;
  backend?: BackendChoice;
  /** Data cache folder handed to tasks. */
  dataDir?: string;
  /** Worker name in results (default: host name and pid). */
  name?: string;
}

export class TrialPool implements TrialExecutor {
  readonly slots: number;
  readonly name: string;
  private readonly backend: BackendChoice;
  private readonly dataDir?: string;
  private readonly piscina: Piscina<ThreadTask, ThreadResult>;

  constructor(options: TrialPoolOptions = {}) {
    this.backend = options.backend ?? 'auto';
    this.dataDir = options.dataDir;
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    const wanted = options.threads ?? availableParallelism();
    this.slots = mayUseNativeBackend(this.backend) ? 1 : wanted;
    this.piscina = new Piscina({
      filename: new URL('./trial-thread.js', import.meta.url).href,
      minThreads: this.slots,
      maxThreads: this.slots,
      // Threads keep their loaded backend and data set between trials.
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: 1,
    });
  }

  async run(spec: TrialSpec, hooks: ExecutionHooks): Promise<ResultEvent> {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (msg: ThreadMessage) => {
      if (msg.type !== 'epoch') return;
      const event = {
        v: PROTOCOL_VERSION,
        experiment: spec.experiment,
        trial_id: spec.trial_id,
        attempt: spec.attempt,
        epoch: msg.epoch,
        metrics: msg.metrics,
        worker: this.name,
      } as const;
      // A failing decision handler must not stall the trial: no answer means continue.
      hooks.onEpoch(event).then(
        (decision) => reply(decision),
        () => reply('continue'),
      );
      const reply = (decision: Decision) => {
        const answer: MainMessage = { type: 'decision', epoch: msg.epoch, decision };
        try {
          port1.postMessage(answer);
        } catch {
          // The trial already ended.
        }
      };
    });
    const started = Date.now();
    let result: ThreadResult;
    try {
      result = await this.piscina.run(
        { spec, port: port2, backend: this.backend, dataDir: this.dataDir },
        { transferList: [port2], signal: hooks.signal },
      );
    } catch (err) {
      if (hooks.signal.aborted) throw new TrialInterruptedError(spec.trial_id);
      // The thread died (out of memory, a crash in native code): the trial failed.
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      result = {
        ok: false,
        metrics: {},
        epochs: 0,
        stopped: false,
        error,
        started_at: started,
        ended_at: Date.now(),
      };
    } finally {
      port1.close();
    }
    return {
      v: PROTOCOL_VERSION,
      experiment: spec.experiment,
      trial_id: spec.trial_id,
      attempt: spec.attempt,
      state: !result.ok ? 'failed' : result.stopped ? 'stopped' : 'completed',
      metrics: result.metrics,
      epochs: result.epochs,
      ...(result.error === undefined ? {} : { error: result.error }),
      worker: this.name,
      ...(result.backend === undefined ? {} : { backend: result.backend }),
      ...(result.ok && result.model ? { model: result.model } : {}),
      started_at: result.started_at,
      ended_at: result.ended_at,
    };
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
