/**
 * Parses and validates a search-space file (docs/SEARCH-SPACES.md): YAML syntax, then structure against
 * search-spaces/sweep.schema.json (ajv), then the semantic rules in code (min <= max, log min > 0, the
 * multiples of q, grid needs finite parameters, the task and its parameter catalogue, hyperband settings).
 * Every problem found is collected and thrown together as one SearchSpaceError.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../shared/errors.js';
import type { SearchSpaceIssue } from '../../shared/errors.js';
import type { TrialParams } from '../../shared/protocol/index.js';
import { show } from './schema.js';
import type { ReportIssue, TaskCatalog } from './task-catalog.js';
import { checkEarlyTerminate, trialEpochs } from './hyperband-check.js';
import {
  applyRunWith,
  checkTaskParams,
  knownTask,
  type RunWith,
  taskDefaults,
  type TrialTask,
  trialTask,
} from './trial-task.js';
import { parseDuration } from './duration.js';
import { allScopes, isObject, ParamsWalker, type ParsedScope } from './parse-params.js';
import type { EarlyTerminate, Method, ParamSpecs, SearchSpace } from './types.js';
import { IssueLog, parseYaml, yamlData, type YamlSource } from './yaml-source.js';
import { checkStructure } from './structure-check.js';
import { checkGridFinite, checkGridSize } from './grid-check.js';
import { checkMetricName, DEFAULT_METRIC, metricOf } from './metric-check.js';
import { IGNORED_KEYS, warnIgnoredKeys, warnMethodDifferences } from './wandb-warnings.js';

export { DEFAULT_METRIC, IGNORED_KEYS };
export { MAX_FILE_DEPTH } from './yaml-source.js';

export interface ParseOptions {
  /** Shown in front of every error line; default `<search space>`. */
  file?: string;
  /** The tasks a file may name, with their parameter rules (see builtin-tasks.ts). */
  tasks: TaskCatalog;
  /** A grid with more configurations than this is refused (default DEFAULT_MAX_GRID). */
  maxGrid?: number;
  /** For a file that names neither task nor program: what its trials run (--task / --program). */
  run?: RunWith;
}

/** A parsed file and what hpo does differently from W&B for it (or ignores), as issues with lines. */
export interface AnalysedSearchSpace {
  space: SearchSpace;
  warnings: SearchSpaceIssue[];
}

export const DEFAULT_SEED = 1;

/** Default of --max-grid: a grid with more configurations is refused. */
export const DEFAULT_MAX_GRID = 100_000;

/**
 * Parses a search-space file's text. Throws a SearchSpaceError listing every problem (YAML syntax errors
 * alone when the text is not valid YAML).
 */
export function parseSearchSpace(text: string, options: ParseOptions): SearchSpace {
  return analyseSearchSpace(text, options).space;
}

/** A file's data after the structural check: its keys, and whether each is present and sound. */
interface SweepData {
  data: Record<string, unknown>;
  /** Present, and without structural errors (already reported). */
  ok: (key: string) => boolean;
  /** Top-level keys with structural errors. */
  broken: ReadonlySet<string>;
  /** Formatted paths of parameter entries with structural errors. */
  params: ReadonlySet<string>;
}

/** What the checks found that the space is built from (once no issue remains). */
interface CheckedParts {
  method: Method | undefined;
  parsed: ParsedScope;
  trial: TrialTask;
  metric: SearchSpace['metric'];
  runTimeBudget: number | undefined;
  earlyTerminate: EarlyTerminate | undefined;
}

/**
 * As parseSearchSpace, and also returns the warnings (W&B keys ignored, deliberate differences). The
 * steps run in this order (issues at the same line are reported in it): YAML, structure, the W&B keys
 * ignored, parameters, grid, task, metric, run_time_budget, early_terminate, the methods' differences.
 */
export function analyseSearchSpace(text: string, options: ParseOptions): AnalysedSearchSpace {
  const source = parseYaml(text, options.file ?? '<search space>');
  const log = new IssueLog(source);
  const sweep = checkedData(source, log, options.run);
  warnIgnoredKeys(sweep.data, log.warn);
  const parts = checkParts(sweep, source, log, options);
  log.throwIfAny();
  // Everything is valid from here on.
  const space = assembleSpace(sweep.data, parts, taskDefaults(knownTask(parts.trial), options.tasks));
  return { space, warnings: log.sortedWarnings() };
}

/** The file's data, with the caller's task or program applied, checked against the schema. */
function checkedData(source: YamlSource, log: IssueLog, run: RunWith | undefined): SweepData {
  const data = yamlData(source, log);
  if (isObject(data)) applyRunWith(data, run, log.report);
  const { keys, params } = checkStructure(data, log.report);
  if (!isObject(data)) log.throwNow();
  return { data, ok: (key) => key in data && !keys.has(key), broken: keys, params };
}

/** Each key's semantic checks, in the order of analyseSearchSpace; the parts the space is built from. */
function checkParts(
  sweep: SweepData,
  source: YamlSource,
  log: IssueLog,
  options: ParseOptions,
): CheckedParts {
  const { data, ok } = sweep;
  const { report, warn } = log;
  // Parameters, in file order; null for entries that are present but malformed.
  const parsed = new ParamsWalker({ doc: source.doc, report, warn, broken: sweep.params }).walk(
    ok('parameters') ? data.parameters : {},
  );
  const method = (ok('method') ? data.method : undefined) as Method | undefined;
  if (method === 'grid' && checkGridFinite(parsed, source.doc, report) && log.issues.length === 0) {
    checkGridSize(parsed.specs as ParamSpecs, options.maxGrid ?? DEFAULT_MAX_GRID, report);
  }
  const trial = trialTask(data, ok, options.tasks, report);
  const task = knownTask(trial);
  checkTaskParams(task, parsed, options.tasks, report);
  const metric = metricOf(ok('metric') ? (data.metric as Record<string, unknown>) : undefined, warn);
  checkMetricName(data.metric, task, options.tasks, report);
  const runTimeBudget = runTimeBudgetOf(data, sweep.broken, report);
  const earlyTerminate = ok('early_terminate')
    ? checkEarlyTerminate(
        data.early_terminate as EarlyTerminate,
        trialEpochs(parsed.specs.epochs, taskDefaults(task, options.tasks).epochs),
        report,
        warn,
      )
    : undefined;
  warnMethodDifferences(method, parsed, warn);
  return { method, parsed, trial, metric, runTimeBudget, earlyTerminate };
}

/** `run_time_budget` in seconds (undefined when absent or malformed: reported). */
function runTimeBudgetOf(
  data: Record<string, unknown>,
  broken: ReadonlySet<string>,
  report: ReportIssue,
): number | undefined {
  if (!('run_time_budget' in data)) return undefined;
  const seconds = parseDuration(data.run_time_budget);
  if (seconds === undefined && !broken.has('run_time_budget')) {
    report(
      ['run_time_budget'],
      `expected a duration (seconds, or e.g. 90s, 15m, 2h, 1h30m), got ${show(data.run_time_budget)}`,
    );
  }
  return seconds;
}

/** The space of a valid file: its parts, plus the task's defaults for the parameters it does not name. */
function assembleSpace(
  data: Record<string, unknown>,
  parts: CheckedParts,
  defaults: Readonly<TrialParams>,
): SearchSpace {
  const { parameters, defaulted } = withTaskDefaults(parts.parsed, defaults);
  const space: SearchSpace = {
    method: parts.method as Method,
    metric: parts.metric,
    parameters,
    task: parts.trial.task as string,
    seed: (data.seed as number | undefined) ?? DEFAULT_SEED,
    data: {
      seed: ((data.data as Record<string, unknown> | undefined)?.seed as number | undefined) ?? DEFAULT_SEED,
    },
  };
  if (data.run_cap !== undefined) space.run_cap = data.run_cap as number;
  if (parts.runTimeBudget !== undefined) space.run_time_budget = parts.runTimeBudget;
  if (parts.earlyTerminate) space.early_terminate = parts.earlyTerminate;
  if (typeof data.description === 'string') space.description = data.description;
  if (defaulted.length > 0) space.defaulted = defaulted;
  if (parts.trial.commandTask) {
    space.program = data.program as string;
    if (parts.trial.command) space.command = parts.trial.command;
  }
  return space;
}

/** The file's parameters, plus a constant for each task default that no scope names (listed in defaulted). */
function withTaskDefaults(
  parsed: ParsedScope,
  defaults: Readonly<TrialParams>,
): { parameters: ParamSpecs; defaulted: string[] } {
  const parameters: ParamSpecs = { ...(parsed.specs as ParamSpecs) };
  const named = new Set(allScopes(parsed).flatMap((scope) => Object.keys(scope.specs)));
  const defaulted: string[] = [];
  for (const [name, value] of Object.entries(defaults)) {
    if (!named.has(name)) {
      parameters[name] = { kind: 'constant', value };
      defaulted.push(name);
    }
  }
  return { parameters, defaulted };
}

/** A search-space file's parsed space and its text as read (for the experiment record). */
export interface LoadedSearchSpace {
  space: SearchSpace;
  source: string;
  /** What hpo ignores or does differently from W&B for this file. */
  warnings: SearchSpaceIssue[];
}

/** Reads and parses a search-space file; a missing or unreadable file is a UsageError naming it. */
export function readSearchSpaceFile(path: string, options: ParseOptions): LoadedSearchSpace {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new UsageError(`cannot read search-space file ${path}: ${why}`, { cause: err });
  }
  const { space, warnings } = analyseSearchSpace(source, { ...options, file: options.file ?? path });
  return { space, source, warnings };
}

/** Reads and parses a search-space file (see readSearchSpaceFile to also get its text). */
export function loadSearchSpaceFile(path: string, options: ParseOptions): SearchSpace {
  return readSearchSpaceFile(path, options).space;
}
