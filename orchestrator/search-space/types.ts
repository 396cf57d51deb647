/** A parsed, validated search-space file (W&B sweep format plus hpo's keys; see docs/SEARCH-SPACES.md). */
import type { ParamValue } from '../../shared/protocol/index.js';

export type Method = 'grid' | 'random' | 'bayes';
export type Goal = 'maximize' | 'minimize';

export interface Metric {
  /** Name of a metric the task reports per epoch, e.g. `val_acc`. */
  name: string;
  goal: Goal;
  /** W&B's `target`: no new trials once a trial's objective reaches it (goal-wise). */
  target?: number;
}

/** The parameters of one scope (the file's, or a branch's), by name, in file order. */
export type ParamSpecs = Record<string, ParamSpec>;

/**
 * One parameter, normalised. W&B's `log_uniform`, `inv_log_uniform` and `inv_log_uniform_values` are all
 * log-uniform over some [min, max] and are stored as `log_uniform_values` (bounds converted);
 * `q_log_uniform` as `q_log_uniform_values`. `from` keeps the distribution the file named.
 */
export type ParamSpec =
  | { kind: 'constant'; value: ParamValue }
  | CategoricalSpec
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'int_uniform'; min: number; max: number }
  | { kind: 'log_uniform_values'; min: number; max: number; from?: string }
  | { kind: 'q_uniform'; min: number; max: number; q: number }
  | { kind: 'q_log_uniform_values'; min: number; max: number; q: number; from?: string }
  | { kind: 'normal' | 'log_normal'; mu: number; sigma: number }
  | { kind: 'q_normal' | 'q_log_normal'; mu: number; sigma: number; q: number };

export interface CategoricalSpec {
  kind: 'categorical';
  values: ParamValue[];
  /** W&B's `probabilities` (same length as values, summing to 1): random draws are weighted by them. */
  probabilities?: number[];
  /**
   * hpo's conditional parameters: `branches[i]` are the parameters that exist only when this parameter
   * takes `values[i]` (null: none). Absent when no value has a branch.
   */
  branches?: (ParamSpecs | null)[];
}

/**
 * Early termination. `hyperband` (W&B's key) runs asynchronous successive halving (ASHA) over `s`
 * brackets; `median` (an hpo extension) is the median stopping rule. See docs/SEARCH-SPACES.md.
 */
export type EarlyTerminate = HyperbandTerminate | MedianTerminate;

export interface HyperbandTerminate {
  type: 'hyperband';
  /** Epochs of the first rung (bracket 0). */
  min_iter?: number;
  /** No trial runs past this many epochs. */
  max_iter?: number;
  /** W&B's strict mode: accepted, no effect in hpo (warned). */
  strict?: boolean;
  /** Keep the top 1/eta at each rung; rungs are eta times apart. Default 3. */
  eta?: number;
  /** Number of brackets (Hyperband-style variation of the first rung). Default 1. */
  s?: number;
}

export interface MedianTerminate {
  type: 'median';
  /** No trial is stopped at or before this epoch. Default 1. */
  grace_epochs?: number;
  /** Finished trials needed at an epoch before the median there is used. Default 3. */
  min_trials?: number;
}

export interface SearchSpace {
  method: Method;
  metric: Metric;
  /** In file order. */
  parameters: Record<string, ParamSpec>;
  run_cap?: number;
  /** hpo: seconds after the start of a run after which no new trial starts (see --time-budget). */
  run_time_budget?: number;
  early_terminate?: EarlyTerminate;
  /** hpo keys. */
  task: string;
  /** Seeds the strategy (random order) and, offset per trial, each trial. */
  seed: number;
  /** Data set of multi-digit-mnist trials. */
  data: { seed: number };
  /** Optional human description. */
  description?: string;
  /**
   * W&B `program`, as written (a command task when the file has no `task`); the task is then named after
   * the program's file name.
   */
  program?: string;
  /** W&B `command` template (numbers written as text); absent: `${env} ${interpreter} ${program} ${args}`. */
  command?: string[];
  /**
   * The user code a task module (`task: ./file.mjs`) or command task (`program:`) runs: its kind, absolute
   * path and content sha256 (trials name the task by name and sha256). Set by the caller that resolved
   * the file, not by the parser.
   */
  task_source?: TaskSource;
  /**
   * Names of the parameters the file did not give that were filled in from the task's defaults (as
   * `constant` entries appended to `parameters` after the file's own), so every trial's params are complete.
   */
  defaulted?: string[];
}

/** Where a user task's code is, and its content hash. */
export interface TaskSource {
  kind: 'module' | 'command';
  path: string;
  sha256: string;
}
