/** A parsed, validated search-space file (W&B sweep format plus hpo's keys; see docs/SEARCH-SPACES.md). */
import type { ParamValue } from '../../shared/protocol/index.js';

export type Method = 'grid' | 'random' | 'bayes';
export type Goal = 'maximize' | 'minimize';

export interface Metric {
  /** Name of a metric the task reports per epoch, e.g. `val_acc`. */
  name: string;
  goal: Goal;
}

export type ParamSpec =
  | { kind: 'constant'; value: ParamValue }
  | { kind: 'categorical'; values: ParamValue[] }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'int_uniform'; min: number; max: number }
  | { kind: 'log_uniform_values'; min: number; max: number }
  | { kind: 'q_uniform'; min: number; max: number; q: number }
  | { kind: 'q_log_uniform_values'; min: number; max: number; q: number };

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
