import type { Decision, EpochEvent, ResultEvent, TrialSpec } from './index.js';

export interface ExecutionHooks {
  /** Called after each epoch; the answer goes back to the running trial. */
  onEpoch(event: EpochEvent): Promise<Decision>;
  /** Aborting ends the trial without a result (it was interrupted, not finished). */
  signal: AbortSignal;
}

/** Thrown (rejected) by run() when the trial was aborted through hooks.signal. */
export class TrialInterruptedError extends Error {
  constructor(readonly trialId: string) {
    super(`trial ${trialId} was interrupted`);
    this.name = 'TrialInterruptedError';
  }
}

/**
 * Worker side of the orchestrator↔worker boundary: runs trials, at most `slots` at once. run()
 * resolves with the trial's result (completed, stopped or failed: a task error is a failed result,
 * not a rejection) and rejects only with TrialInterruptedError.
 */
export interface TrialExecutor {
  readonly slots: number;
  readonly name: string;
  run(spec: TrialSpec, hooks: ExecutionHooks): Promise<ResultEvent>;
  close(): Promise<void>;
}
