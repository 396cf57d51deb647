import type { TrialParams } from '../../shared/protocol/index.js';

/** What a running search reports after every change. */
export interface SearchProgress {
  experiment: string;
  /** Trials the search will run in all, when known (grid, run_cap, finite space). */
  total: number | null;
  /** Trials in a final state: completed + stopped + failed. */
  done: number;
  completed: number;
  stopped: number;
  failed: number;
  /** Trials a worker (or a local thread) runs now: `running` in `hpo status`. */
  running: number;
  /** Trials dispatched over a bus that no worker has started yet: `queued` in `hpo status`. */
  queued: number;
  best: { trial_id: string; value: number; params: TrialParams } | null;
  /** When the time budget ends (ms since the epoch), null without one. */
  deadline: number | null;
  /** metric.target was reached: no new trials start. */
  target_reached: boolean;
  /** The event that caused this report. */
  event: { kind: 'started' | 'epoch' | 'result'; trial_id?: string; text?: string };
}
