/**
 * Search-space files: parsing, validation, value sets. The built-in task catalogue lives in
 * builtin-tasks.ts and is not re-exported here because it loads the model registry (and tfjs).
 */
export type {
  EarlyTerminate,
  Goal,
  HyperbandTerminate,
  MedianTerminate,
  Method,
  Metric,
  ParamSpec,
  SearchSpace,
} from './types.js';
export { formatIssue, SearchSpaceError, type SearchSpaceIssue } from '../../shared/errors.js';
export {
  DEFAULT_METRIC,
  DEFAULT_SEED,
  DEFAULT_TASK,
  loadSearchSpaceFile,
  parseSearchSpace,
  readSearchSpaceFile,
  type LoadedSearchSpace,
  type ParseOptions,
} from './parse-sweep.js';
export { formatPath, SCHEMA_URL } from './schema.js';
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
export {
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
