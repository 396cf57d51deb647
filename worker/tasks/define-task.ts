/**
 * `defineTask`: how a user's own module declares a task (`export default defineTask({...})`). The result
 * is the same Task contract the built-in tasks implement; parameter rules are optional (any parameter
 * is then allowed) and so are metric names (any metric may then be the objective).
 */
import { UsageError } from '../../shared/errors.js';
import type { ParamValue, TrialSpec } from '../../shared/protocol/index.js';
import type { ParamRule, TaskParams } from '../../shared/task-params.js';
import type { Task, TaskContext, TaskOutcome } from './task.js';

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
  run(spec: TrialSpec, ctx: TaskContext): Promise<TaskRunResult> | TaskRunResult;
}

/** Marks an object made by defineTask (checked when a module is loaded). */
export const TASK_BRAND = Symbol.for('hpo.task');

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
      const result = await def.run(spec, {
        ...ctx,
        signal: ctx.signal,
        backend: ctx.backend,
        reportEpoch: async (epoch, metrics, usage) => {
          epochs = epoch;
          last = metrics;
          const decision = await ctx.reportEpoch(epoch, metrics, usage);
          if (decision === 'stop') stopped = true;
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
