/**
 * Search-space files: parsing, validation, value sets. The built-in task catalogue lives in
 * builtin-tasks.ts and is not re-exported here because it loads the model registry (and tfjs).
 */
export type {
  CategoricalSpec,
  ParamSpecs,
  EarlyTerminate,
  Goal,
  HyperbandTerminate,
  MedianTerminate,
  Method,
  Metric,
  ParamSpec,
  SearchSpace,
  TaskSource,
} from './types.js';
export { formatIssue, SearchSpaceError, type SearchSpaceIssue } from '../../shared/errors.js';
export {
  analyseSearchSpace,
  DEFAULT_MAX_GRID,
  IGNORED_KEYS,
  type AnalysedSearchSpace,
  DEFAULT_METRIC,
  DEFAULT_SEED,
  loadSearchSpaceFile,
  parseSearchSpace,
  readSearchSpaceFile,
  type LoadedSearchSpace,
  type ParseOptions,
} from './parse-sweep.js';
export { formatPath, SCHEMA_URL } from './schema.js';
export { NO_TASK, type RunWith } from './trial-task.js';
export {
  catalogFromTasks,
  checkParam,
  describeRule,
  valueMatches,
  type ParamRule,
  type PathSegment,
  type ReportIssue,
  type TaskCatalog,
  type TaskParams,
} from './task-catalog.js';
export { formatDuration, parseDuration } from './duration.js';
export { MAX_PARAM_NESTING } from './parse-params.js';
export {
  allParamNames,
  choiceIndex,
  isConditional,
  scopeSize,
  valueKey,
  configAt,
  containsValue,
  gridSize,
  inSpace,
  isFinite,
  isFiniteSpace,
  isFiniteSpec,
  qRange,
  qValue,
  valueAt,
  valueCount,
} from './values.js';
export { trialRung } from './hyperband.js';
