/**
 * A task's parameter rules: what each known parameter accepts. Declared by the task (worker side), read
 * by the sweep-file parser (orchestrator side) to check a file before any trial runs, and by the task to
 * check a trial's params once when it starts.
 */
import type { ParamValue, TrialParams } from './protocol/index.js';

/** What one known parameter of a task accepts. */
export type ParamRule =
  | {
      type: 'number' | 'integer';
      /** Exclusive lower bound. */
      gt?: number;
      /** Inclusive lower bound. */
      ge?: number;
      /** Inclusive upper bound. */
      le?: number;
    }
  | { type: 'choice'; choices: readonly string[] };

/** The parameter catalogue of one task. */
export interface TaskParams {
  /** Known parameters and what they accept, in documentation order. */
  params: Readonly<Record<string, ParamRule>>;
  /** True: parameter names not in `params` are allowed (and not checked). False: they are errors. */
  open: boolean;
  /** Values used when the file does not give a parameter. */
  defaults: Readonly<TrialParams>;
  /** Metric names the task reports, if known. */
  metrics?: readonly string[];
}

/** `a number > 0`, `an integer > 0 and <= 36000`, `one of sgd, adam`. */
export function describeRule(rule: ParamRule): string {
  if (rule.type === 'choice') return `one of ${rule.choices.join(', ')}`;
  const bounds: string[] = [];
  if (rule.gt !== undefined) bounds.push(`> ${rule.gt}`);
  if (rule.ge !== undefined) bounds.push(`>= ${rule.ge}`);
  if (rule.le !== undefined) bounds.push(`<= ${rule.le}`);
  const noun = rule.type === 'integer' ? 'an integer' : 'a number';
  return bounds.length === 0 ? noun : `${noun} ${bounds.join(' and ')}`;
}

/** Whether a single value satisfies the rule. */
export function valueMatches(rule: ParamRule, value: ParamValue): boolean {
  if (rule.type === 'choice') return typeof value === 'string' && rule.choices.includes(value);
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (rule.type === 'integer' && !Number.isInteger(value)) return false;
  if (rule.gt !== undefined && !(value > rule.gt)) return false;
  if (rule.ge !== undefined && !(value >= rule.ge)) return false;
  if (rule.le !== undefined && !(value <= rule.le)) return false;
  return true;
}
