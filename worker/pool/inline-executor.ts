/**
 * Runs a Task object in this thread (the library's `search({ task })` with a task defined in the
 * caller's own code, which cannot be sent to a pool thread; bench:search with the registered tasks,
 * looked up by each spec's task name). Up to `slots` trials at once, interleaved on the event loop;
 * aborting a trial aborts its context's signal.
 */
import { hostname } from 'node:os';
import {
  type ExecutionHooks,
  type TrialExecutor,
  TrialInterruptedError,
} from '../../shared/protocol/executor.js';
import {
  deliveryFields,
  resultEvent,
  type ResultEvent,
  type TrialSpec,
} from '../../shared/protocol/index.js';
import type { BackendChoice } from '../backends/backend.js';
import type { Task } from '../tasks/task.js';
import { errorText } from '../../shared/errors.js';

export interface InlineExecutorOptions {
  slots?: number;
  backend?: BackendChoice;
  dataDir?: string;
  name?: string;
}

/** The one task to run, or how to find a spec's task by its name (e.g. the registry's `getTask`). */
export type InlineTask = Task | ((name: string) => Task);

export class InlineExecutor implements TrialExecutor {
  readonly slots: number;
  readonly name: string;

  constructor(
    private readonly task: InlineTask,
    private readonly options: InlineExecutorOptions = {},
  ) {
    this.slots = options.slots ?? 1;
    this.name = options.name ?? `${hostname()}:${process.pid}`;
  }

  async run(spec: TrialSpec, hooks: ExecutionHooks): Promise<ResultEvent> {
    const started = Date.now();
    let epochs = 0;
    let last: Record<string, number> = {};
    const base = {
      ...deliveryFields(spec),
      worker: this.name,
    } as const;
    try {
      const task = typeof this.task === 'function' ? this.task(spec.task) : this.task;
      const outcome = await task.run(spec, {
        signal: hooks.signal,
        backend: this.options.backend ?? 'auto',
        dataDir: this.options.dataDir,
        reportEpoch: async (epoch, metrics) => {
          epochs = epoch;
          last = metrics;
          try {
            return await hooks.onEpoch({ ...base, epoch, metrics });
          } catch {
            return 'continue';
          }
        },
      });
      if (hooks.signal.aborted) throw new TrialInterruptedError(spec.trial_id);
      return resultEvent(spec, {
        state: outcome.stopped ? 'stopped' : 'completed',
        metrics: outcome.metrics,
        epochs: outcome.epochs,
        worker: this.name,
        backend: outcome.backend || undefined,
        started_at: started,
        ended_at: Date.now(),
      });
    } catch (err) {
      if (hooks.signal.aborted) throw new TrialInterruptedError(spec.trial_id);
      return resultEvent(spec, {
        state: 'failed',
        metrics: last,
        epochs,
        error: errorText(err),
        worker: this.name,
        started_at: started,
        ended_at: Date.now(),
      });
    }
  }

  async close(): Promise<void> {}
}
