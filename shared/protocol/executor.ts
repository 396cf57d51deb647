import type { Decision, EpochEvent, ResultEvent, TrialSpec } from './index.js';

export interface ExecutionHooks {
  /** Called after each epoch; the answer goes back to the running trial. */
  onEpoch(event: EpochEvent): Promise<Decision>;
  /** Aborting ends the trial without a result (it was interrupted, not finished). */
  signal: AbortSignal;
}

/** Part of the contract (run() rejects only with it); defined with the other typed errors. */
export { TrialInterruptedError } from '../errors.js';

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
