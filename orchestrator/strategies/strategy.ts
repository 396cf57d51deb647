import type { FinalState, TrialParams } from '../../shared/protocol/index.js';

/**
 * "What to try next". A strategy never sees running internals, only what was proposed and how finished
 * trials scored. It must be deterministic given its seed and the proposals so far, so that a resumed
 * search continues where it left off.
 */
export interface Strategy {
  /**
   * The next configuration, or null when there is nothing left to try (grid exhausted, run_cap reached,
   * every configuration of a finite space seen). `proposed` is how many configurations the experiment
   * already has (including those from before a resume); `seen` are their params.
   */
  next(state: StrategyState): TrialParams | null;
}

export interface StrategyState {
  proposed: number;
  seen: readonly TrialParams[];
  /** Finished trials with their objective value (for model-based strategies). */
  finished: readonly FinishedProposal[];
}

export interface FinishedProposal {
  params: TrialParams;
  /** The objective from the trial's final metrics (null when it reported none). */
  value: number | null;
  /** How it ended (absent: completed); a stopped trial's value is from the epoch it stopped at. */
  state?: FinalState;
  /** Epochs it ran. */
  epochs?: number;
}
