import type { Decision, FinalState, TrialParams } from '../../shared/protocol/index.js';

/** Read-only view of a trial that a scheduler decides on. */
export interface TrialSnapshot {
  trial_id: string;
  params: TrialParams;
  /** Metric history, one entry per epoch reported so far (index 0 = epoch 1). */
  history: readonly Record<string, number>[];
  /** The trial's proposal order in its experiment (ASHA assigns brackets by it). */
  index?: number;
}

/** A trial that ended, with every epoch it recorded. */
export interface FinishedTrial extends TrialSnapshot {
  state: FinalState;
}

/**
 * "Keep this trial running?" Answers after each epoch a trial reports. A scheduler sees snapshots only
 * (no store, no executor); it decides on the experiment's objective (a validation metric) only.
 */
export interface Scheduler {
  readonly name: string;
  /** true: decide() always answers continue, so workers need not ask after each epoch (FIFO). */
  readonly neverStops?: boolean;
  /** `all`: the trials running now (ended ones reach trialFinished). */
  decide(trial: TrialSnapshot, epoch: number, all: readonly TrialSnapshot[]): Decision;
  /**
   * A trial ended. Called as results arrive and, when a search starts or resumes, once for every trial
   * the store already holds in a final state, so the scheduler's history survives `hpo resume`.
   * Idempotent per trial_id.
   */
  trialFinished?(trial: FinishedTrial): void;
}
