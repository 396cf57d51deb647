import type { Decision, TrialParams } from '../../shared/protocol/index.js';

/** Read-only view of a trial that a scheduler decides on. */
export interface TrialSnapshot {
  trial_id: string;
  params: TrialParams;
  /** Metric history, one entry per epoch reported so far (index 0 = epoch 1). */
  history: readonly Record<string, number>[];
}

/** "Keep this trial running?" Answers after each epoch a trial reports. */
export interface Scheduler {
  readonly name: string;
  decide(trial: TrialSnapshot, epoch: number, all: readonly TrialSnapshot[]): Decision;
}
