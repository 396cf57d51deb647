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

export interface EarlyTerminate {
  type: 'hyperband';
  min_iter?: number;
  max_iter?: number;
  eta?: number;
  s?: number;
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
   * Names of the parameters the file did not give that were filled in from the task's defaults (as
   * `constant` entries appended to `parameters` after the file's own), so every trial's params are complete.
   */
  defaulted?: string[];
}
