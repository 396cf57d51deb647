/**
 * `defineTask`: how a user's own module declares a task (`export default defineTask({...})`). The result
 * is the same Task contract the built-in tasks implement; parameter rules are optional (any parameter
 * is then allowed) and so are metric names (any metric may then be the objective).
 *
 * Before `run`, the trial's thread selects the backend the worker was told to use (once per thread) and
 * the task gets hpo's own @tensorflow/tfjs as `ctx.tf`: a user's model then trains on that backend, in
 * the one tfjs instance the worker runs (a second copy would register every kernel again and run on
 * its own default backend). `tfjs: false` skips this for tasks that do not use TF.js.
 */
import { UsageError } from '../../shared/errors.js';
import { epochLimit, type ParamValue, type TrialSpec } from '../../shared/protocol/index.js';
import type { ParamRule, TaskParams } from '../../shared/task-params.js';
import type { BackendChoice } from '../backends/backend.js';
import type { Task, TaskContext, TaskOutcome } from './task.js';

/** hpo's @tensorflow/tfjs module (its types only here: defineTask loads it when a trial first runs). */
export type Tfjs = typeof import('@tensorflow/tfjs');

/** What a defined task's `run` gets: the trial's context plus hpo's tfjs on the worker's backend. */
export interface TaskRunContext extends TaskContext {
  /**
   * hpo's @tensorflow/tfjs, its backend already selected (`ctx.tf.getBackend()` says which). Build and
   * train models with it rather than a module's own `import '@tensorflow/tfjs'`.
   */
  tf: Tfjs;
}

/** One parameter's rule, optionally with the value used when a sweep file does not give it. */
export type TaskParamRule = ParamRule & { default?: ParamValue };

/** What a task author may return from `run`: a full outcome, or just the final metrics (or nothing). */
export type TaskRunResult = Partial<TaskOutcome> | Record<string, number> | void;

export interface TaskDefinition {
  /** Task name, as trials and `hpo workers` show it. */
  name: string;
  description?: string;
  /** Known parameters and what they accept; others are allowed unless `strict`. */
  params?: Record<string, TaskParamRule>;
  /** True: parameters not in `params` are errors in a sweep file. */
  strict?: boolean;
  /** Metric names the task reports (checked against the sweep's `metric.name`). */
  metrics?: string[];
  /** False: the task does not use TF.js (no backend is selected for it; ctx.tf is not there). Default true. */
  tfjs?: boolean;
  run(spec: TrialSpec, ctx: TaskRunContext): Promise<TaskRunResult> | TaskRunResult;
}

/** Marks an object made by defineTask (checked when a module is loaded). */
export const TASK_BRAND = Symbol.for('hpo.task');

/** hpo's tfjs with the worker's backend selected in this thread (loaded on first use: the entry stays light). */
async function workerTfjs(choice: BackendChoice): Promise<Tfjs> {
  const { threadTfjs } = await import('../backends/thread-backend.js');
  return threadTfjs(choice);
}

/** ctx.tf of a task defined with `tfjs: false`: using it is a clear error, not `undefined.sequential`. */
function noTfjs(name: string): Tfjs {
  return new Proxy({} as Tfjs, {
    get: () => {
      throw new UsageError(`task ${name}: ctx.tf is not available: the task is defined with tfjs: false`);
    },
  });
}

function isOutcome(value: unknown): value is Partial<TaskOutcome> {
  return (
    typeof value === 'object' && value !== null && 'metrics' in value && typeof value.metrics === 'object'
  );
}

export function defineTask(def: TaskDefinition): Task {
  if (typeof def !== 'object' || def === null) throw new UsageError('defineTask: expected an object');
  if (typeof def.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(def.name)) {
    throw new UsageError(
      `defineTask: name: expected letters, digits, '.', '_' or '-' (at most 128), got ${JSON.stringify(def.name)}`,
    );
  }
  if (typeof def.run !== 'function')
    throw new UsageError(`defineTask(${def.name}): run: expected a function`);
  const rules: Record<string, ParamRule> = {};
  const defaults: Record<string, ParamValue> = {};
  for (const [key, rule] of Object.entries(def.params ?? {})) {
    const { default: value, ...only } = rule;
    rules[key] = only as ParamRule;
    if (value !== undefined) defaults[key] = value;
  }
  const params: TaskParams = {
    params: rules,
    open: def.strict !== true,
    defaults,
    ...(def.metrics ? { metrics: [...def.metrics] } : {}),
  };
  const task: Task = {
    name: def.name,
    description: def.description ?? `task module ${def.name}`,
    params,
    async run(spec, ctx) {
      let epochs = 0;
      let last: Record<string, number> = {};
      let stopped = false;
      const tf = def.tfjs === false ? noTfjs(def.name) : await workerTfjs(ctx.backend);
      const result = await def.run(spec, {
        ...ctx,
        tf,
        signal: ctx.signal,
        backend: ctx.backend,
        reportEpoch: async (epoch, metrics, usage) => {
          epochs = epoch;
          last = metrics;
          const decision = await ctx.reportEpoch(epoch, metrics, usage);
          // A stop at the last epoch is too late to stop anything: the trial completed.
          if (decision === 'stop' && epoch < epochLimit(spec.params)) stopped = true;
          return decision;
        },
      });
      if (isOutcome(result)) {
        return {
          metrics: result.metrics ?? last,
          epochs: result.epochs ?? epochs,
          stopped: result.stopped ?? stopped,
          ...(result.backend ? { backend: result.backend } : {}),
          ...(result.model ? { model: result.model } : {}),
        };
      }
      const metrics = result && typeof result === 'object' ? { ...last, ...result } : last;
      return { metrics, epochs, stopped };
    },
  };
  Object.defineProperty(task, TASK_BRAND, { value: true });
  return task;
}
