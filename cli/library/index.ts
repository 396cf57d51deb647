/**
 * hpo as a library: `import { search, defineTask } from 'hpo'`. This entry loads only defineTask and
 * types; search() loads the orchestrator, store and pool on first call (a task module that imports
 * defineTask in a pool thread stays light).
 */
import type { SearchOptions, SearchResult } from './search-options.js';

export {
  defineTask,
  type TaskDefinition,
  type TaskParamRule,
  type TaskRunResult,
  type TaskRunContext,
  type Tfjs,
} from '../../worker/tasks/define-task.js';
export type { Task, TaskContext, TaskOutcome, EpochUsageReport } from '../../worker/tasks/task.js';
export type { ParamRule } from '../../shared/task-params.js';
export type { Decision, ParamValue, TrialParams, TrialSpec } from '../../shared/protocol/index.js';
export type { SearchOptions, SearchResult } from './search-options.js';
export type { TrialRecord } from '../../orchestrator/store/types.js';
export type { SearchOutcome, SearchProgress } from '../../orchestrator/core/index.js';

const RUN_SEARCH = new URL('./run-search.js', import.meta.url).href;

/** Runs a search to the end (or until `signal` aborts) and resolves to its outcome and leaderboard. */
export async function search(options: SearchOptions): Promise<SearchResult> {
  // A computed specifier: the declarations build (tsconfig.lib.json) stays on the public types.
  const { runSearch } = (await import(RUN_SEARCH)) as {
    runSearch(o: SearchOptions): Promise<SearchResult>;
  };
  return runSearch(options);
}
