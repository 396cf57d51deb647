/**
 * What the parser knows about tasks, passed in by the caller so the parser does not import any task code.
 * `catalogFromTasks` builds a catalogue from per-task parameter rules (mnist-params.ts,
 * synthetic-params.ts); builtin-tasks.ts wires in the worker's model registry.
 */
import type { ParamValue, TrialParams } from '../../shared/protocol/index.js';
import type { ParamSpec } from './types.js';
import { type ParamRule, type TaskParams, describeRule, valueMatches } from '../../shared/task-params.js';

export { type ParamRule, type TaskParams, describeRule, valueMatches };

/** One step of a path into the file: a key, or a list index. */
export type PathSegment = string | number;

/** Reports one problem at `path`, e.g. `['parameters', 'arch', 'values', 1]` (shown `parameters.arch.values[1]`). */
export type ReportIssue = (path: readonly PathSegment[], message: string) => void;

export interface TaskCatalog {
  /** The task names a file may use. */
  names(): string[];
  /**
   * Checks the parameters of a file whose `task` is `task` (one of `names()`), reporting every problem.
   * A parameter that is present but malformed (already reported) is passed as null: check its name only.
   */
  validateParams?(
    task: string,
    parameters: Readonly<Record<string, ParamSpec | null>>,
    report: ReportIssue,
  ): void;
  /** Values of the task's parameters when a file does not give them. */
  defaults?(task: string): Readonly<TrialParams>;
  /** The metric names the task reports per epoch (for checking `metric.name`); undefined: not checked. */
  metrics?(task: string): readonly string[] | undefined;
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Reports every way `spec` (parameter `name`) can produce a value the rule rejects. */
export function checkParam(name: string, spec: ParamSpec, rule: ParamRule, report: ReportIssue): void {
  const at = (...rest: PathSegment[]): PathSegment[] => ['parameters', name, ...rest];
  const expected = describeRule(rule);
  const checkValue = (path: PathSegment[], value: ParamValue): void => {
    if (!valueMatches(rule, value)) report(path, `expected ${expected}, got ${show(value)}`);
  };
  switch (spec.kind) {
    case 'constant':
      checkValue(at('value'), spec.value);
      return;
    case 'categorical':
      spec.values.forEach((value, i) => checkValue(at('values', i), value));
      return;
  }
  // A range distribution.
  if (rule.type === 'choice') {
    report(at(), `expected value or values (${name} takes ${expected}), got distribution ${spec.kind}`);
    return;
  }
  if ('mu' in spec) {
    // The normal family is unbounded: fine only for a rule it cannot break.
    const integerOk = rule.type !== 'integer' || ('q' in spec && Number.isInteger(spec.q));
    const positive = spec.kind === 'log_normal';
    const nonNegative = positive || spec.kind === 'q_log_normal';
    const boundsOk =
      rule.le === undefined &&
      (rule.gt === undefined || (positive && rule.gt <= 0)) &&
      (rule.ge === undefined || (nonNegative && rule.ge <= 0));
    if (!integerOk || !boundsOk) {
      report(
        at('distribution'),
        `expected ${expected} for ${name}; ${spec.kind} is unbounded and can give other values`,
      );
    }
    return;
  }
  if (rule.type === 'integer') {
    if (spec.kind === 'uniform' || spec.kind === 'log_uniform_values') {
      report(
        at('distribution'),
        `${name} takes integers: expected int_uniform, q_uniform or q_log_uniform_values with an integer q, got ${spec.kind}`,
      );
      return;
    }
    if ((spec.kind === 'q_uniform' || spec.kind === 'q_log_uniform_values') && !Number.isInteger(spec.q)) {
      report(at('q'), `${name} takes integers: expected an integer q, got ${show(spec.q)}`);
      return;
    }
  }
  // Every value lies in [min, max], so checking both ends against the (interval) rule suffices; for an
  // integer rule the ends only need to be in range, not integers themselves.
  const bounds: ParamRule = { ...rule, type: 'number' };
  if (!valueMatches(bounds, spec.min)) report(at('min'), `expected ${expected}, got ${show(spec.min)}`);
  if (!valueMatches(bounds, spec.max)) report(at('max'), `expected ${expected}, got ${show(spec.max)}`);
}

/** A TaskCatalog over per-task parameter rules. */
export function catalogFromTasks(tasks: Readonly<Record<string, TaskParams>>): TaskCatalog {
  return {
    names: () => Object.keys(tasks),
    validateParams(task, parameters, report) {
      const catalogue = tasks[task];
      if (!catalogue) return;
      for (const [name, spec] of Object.entries(parameters)) {
        const rule = catalogue.params[name];
        if (!rule) {
          if (!catalogue.open) {
            report(
              ['parameters', name],
              `unknown parameter for task ${task}; expected one of ${Object.keys(catalogue.params).join(', ')}`,
            );
          }
          continue;
        }
        if (spec) checkParam(name, spec, rule, report);
      }
    },
    defaults: (task) => tasks[task]?.defaults ?? {},
    metrics: (task) => tasks[task]?.metrics,
  };
}
