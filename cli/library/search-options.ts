/** Options and result of the library's search(). */
import type { SearchOutcome, SearchProgress } from '../../orchestrator/core/index.js';
import type { TrialRecord } from '../../orchestrator/store/types.js';
import type { Task } from '../../worker/tasks/task.js';

export interface SearchOptions {
  /** A sweep file (YAML, W&B format); relative paths in it resolve against its folder. */
  file?: string;
  /** The sweep itself instead of a file: an object with W&B's keys, or YAML text. */
  space?: Record<string, unknown> | string;
  /**
   * What each trial runs, overriding the sweep's `task`: a task module's path (imported in each pool
   * thread), or a task object made with defineTask (run in this thread).
   */
  task?: string | Task;
  /** Trial threads (default: the machine's cores); with a task object, trials run at once. */
  workers?: number;
  /** SQLite file for the experiment (default: in memory, gone when search() resolves). */
  db?: string;
  /** Experiment name (default: `search-<time>`). */
  name?: string;
  /** Aborting cancels running trials; search() then resolves with status `interrupted`. */
  signal?: AbortSignal;
  /** Called with each finished trial as stored (state, value, metrics, params). */
  onTrial?: (trial: TrialRecord) => void;
  /** Called on every progress event (started, epoch, result). */
  onProgress?: (progress: SearchProgress) => void;
  /** Data cache folder (built-in multi-digit-mnist task). */
  dataDir?: string;
  /** Top trials in the leaderboard (default 10). */
  top?: number;
}

export interface SearchResult extends SearchOutcome {
  /** Best trials first, by the sweep's metric and goal. */
  leaderboard: TrialRecord[];
  /** Where the experiment is stored (':memory:' when no db was given). */
  db: string;
}
