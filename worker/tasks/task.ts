/**
 * A task is what one trial runs. Adding a task is one file exporting a Task (its run function and its
 * parameter rules) plus one line in registry.ts; workers only ever run registered tasks, looked up by name.
 */
import type { TaskParams } from '../../shared/task-params.js';
import type { BackendChoice } from '../backends/backend.js';
import type { Decision, TrialSpec } from '../../shared/protocol/index.js';

export interface TaskContext {
  /**
   * Reports one epoch's metrics; resolves with the scheduler's decision for the trial. `usage` feeds the
   * worker's own metrics (images/s by backend), never the trial's record.
   */
  reportEpoch(epoch: number, metrics: Record<string, number>, usage?: EpochUsageReport): Promise<Decision>;
  /** Aborted when the trial is cancelled or the worker shuts down: stop promptly, no result needed. */
  signal: AbortSignal;
  /** tfjs backend the worker was told to use (tasks that train select it once per thread). */
  backend: BackendChoice;
  /** Data cache folder of this worker (undefined: the default). */
  dataDir?: string;
  /**
   * Root of this worker's saved models (absolute). A trial with save_model saves to
   * modelFolder(modelsDir, experiment_id, trial_id); undefined: this worker saves no models.
   */
  modelsDir?: string;
}

/** What a training task tells the worker about an epoch's work, for the worker's /metrics. */
export interface EpochUsageReport {
  /** Training images processed in the epoch. */
  images?: number;
  /** tfjs backend the epoch ran on. */
  backend?: string;
}

export interface TaskOutcome {
  /** Final metrics: the last epoch's, plus any end-of-trial metrics (e.g. test_acc). */
  metrics: Record<string, number>;
  epochs: number;
  /** True when a decision stopped the trial before its last epoch. */
  stopped: boolean;
  /** Backend the task ran on, if it used one. */
  backend?: string;
  /** Where the trained model was saved, when the spec asked for it. */
  model?: { path: string };
}

export interface Task {
  name: string;
  description: string;
  /** The parameters a search file may give this task, their rules and defaults (checked before any trial runs). */
  params: TaskParams;
  run(spec: TrialSpec, ctx: TaskContext): Promise<TaskOutcome>;
}
