/**
 * A task's parameter rules: what each known parameter accepts. Declared by the task (worker side), read
 * by the sweep-file parser (orchestrator side) to check a file before any trial runs, and by the task to
 * check a trial's params once when it starts (`resolveParams`).
 */
import { ParamError } from './errors.js';
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

/** Known parameters of a task and what each accepts. */
export type ParamRules = Readonly<Record<string, ParamRule>>;

/** The parameter catalogue of one task (`P`: its rules, typed when declared with `satisfies TaskParams`). */
export interface TaskParams<P extends ParamRules = ParamRules> {
  /** Known parameters and what they accept, in documentation order. */
  params: P;
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

/** The type of value a rule accepts: a string for a choice, a number otherwise. */
export type RuleValue<R extends ParamRule> = R extends { type: 'choice' } ? string : number;

/**
 * A trial's known parameters after `resolveParams`: each checked against its rule, defaulted when the
 * task has a default (`D`), else undefined when absent.
 */
export type ResolvedParams<P extends ParamRules, D = Readonly<TrialParams>> = {
  readonly [K in keyof P]: K extends keyof D ? RuleValue<P[K]> : RuleValue<P[K]> | undefined;
};

/**
 * Checks a trial's params against its task's rules, once, and returns the known parameters with the
 * task's defaults applied. Throws a ParamError naming the first parameter its rule rejects and what it
 * accepts. Names outside the rules are not returned and not checked here: the sweep-file parser
 * rejects them for a closed task before any trial runs, and an open task reads them from the spec.
 */
export function resolveParams<P extends ParamRules, D extends Readonly<TrialParams>>(
  params: Readonly<TrialParams>,
  task: { params: P; defaults: D },
): ResolvedParams<P, D> {
  const resolved: Record<string, ParamValue | undefined> = {};
  for (const [name, rule] of Object.entries(task.params)) {
    const own = (record: Readonly<TrialParams>) => (Object.hasOwn(record, name) ? record[name] : undefined);
    const value = own(params) ?? own(task.defaults);
    if (value !== undefined && !valueMatches(rule, value)) {
      throw new ParamError(name, describeRule(rule), value);
    }
    resolved[name] = value;
  }
  return resolved as ResolvedParams<P, D>;
}
