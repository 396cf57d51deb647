/**
 * Parses and validates a search-space file (docs/SEARCH-SPACES.md): YAML syntax, then structure against
 * search-spaces/sweep.schema.json (ajv), then the semantic rules in code (min <= max, log min > 0, the
 * multiples of q, grid needs finite parameters, the task and its parameter catalogue, hyperband settings).
 * Every problem found is collected and thrown together as one SearchSpaceError.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { UsageError } from '../../shared/errors.js';
import { SearchSpaceError, type SearchSpaceIssue } from '../../shared/errors.js';
import { formatPath, show, validateStructure } from './schema.js';
import type { PathSegment, TaskCatalog } from './task-catalog.js';
import { checkHyperband, hyperbandWarnings } from './hyperband-check.js';
import { applyRunWith, type RunWith, trialTask } from './trial-task.js';
import { parseDuration } from './duration.js';
import { entryPathOf, isObject, ParamsWalker, shapelessEntries, type ParsedScope } from './parse-params.js';
import type { EarlyTerminate, Goal, Method, ParamSpec, ParamSpecs, SearchSpace } from './types.js';
import { scopeSize, valueCount } from './values.js';
import { type NumberRange, numberRange } from './number-range.js';

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

export const DEFAULT_METRIC = { name: 'val_acc', goal: 'maximize' } as const;
export const DEFAULT_SEED = 1;

/** Default of --max-grid: a grid with more configurations is refused. */
export const DEFAULT_MAX_GRID = 100_000;
/** Deepest nesting of mappings / lists anywhere in a file. */
export const MAX_FILE_DEPTH = 64;
/** W&B's top-level keys that hpo accepts and ignores (listed in a warning). */
export const IGNORED_KEYS = ['name', 'project', 'entity', 'program', 'command'] as const;

/** Where a path points in the YAML text (its key for map entries), as a 1-based line and column. */
function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PathSegment[],
): { line: number; col: number } | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as { range?: number[] } | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      offset = (pair.key as { range?: number[] } | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      offset = (node as { range?: number[] } | null)?.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset);
}

/** How deep mappings / lists nest in `value` (a scalar is 0); stops counting past `limit`. */
function depthOf(value: unknown, limit: number, path: PathSegment[] = []): PathSegment[] | null {
  if (value === null || typeof value !== 'object') return null;
  if (path.length >= limit) return path;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    const deep = depthOf(v, limit, [...path, k]);
    if (deep) return deep;
  }
  return null;
}

/**
 * The range of the trials' epochs: from the `epochs` parameter, else the task's default (undefined when
 * unknown, or when the parameter is malformed: null).
 */
function trialEpochs(spec: ParamSpec | null | undefined, taskDefault: unknown): NumberRange | undefined {
  if (spec === null) return undefined;
  if (spec !== undefined) return numberRange(spec);
  return typeof taskDefault === 'number' ? { min: taskDefault, max: taskDefault } : undefined;
}

/** Every scope of a parsed parameters tree (the file's, then each branch, depth first). */
function scopes(scope: ParsedScope): ParsedScope[] {
  return [scope, ...scope.branches.flatMap(scopes)];
}

/**
 * Parses a search-space file's text. Throws a SearchSpaceError listing every problem (YAML syntax errors
 * alone when the text is not valid YAML).
 */
export function parseSearchSpace(text: string, options: ParseOptions): SearchSpace {
  return analyseSearchSpace(text, options).space;
}

/** As parseSearchSpace, and also returns the warnings (W&B keys ignored, deliberate differences). */
export function analyseSearchSpace(text: string, options: ParseOptions): AnalysedSearchSpace {
  const file = options.file ?? '<search space>';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SearchSpaceError(
      file,
      doc.errors.map((err) => {
        const pos = err.linePos?.[0];
        const what = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
        return {
          path: '',
          message: pos
            ? `invalid YAML at line ${pos.line}, column ${pos.col}: ${what}`
            : `invalid YAML: ${what}`,
          ...(pos ? { line: pos.line, column: pos.col } : {}),
        };
      }),
    );
  }

  const issues: SearchSpaceIssue[] = [];
  const warnings: SearchSpaceIssue[] = [];
  const at = (list: SearchSpaceIssue[]) => (path: readonly PathSegment[], message: string) => {
    const pos = locate(doc, lineCounter, path);
    list.push({ path: formatPath(path), message, ...(pos ? { line: pos.line } : {}) });
  };
  const report = at(issues);
  const warn = at(warnings);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new SearchSpaceError(file, [{ path: '', message: `invalid YAML: ${(err as Error).message}` }]);
  }
  if (data === null || data === undefined) {
    throw new SearchSpaceError(file, [
      { path: '', message: 'the file is empty; expected a mapping with at least method and parameters' },
    ]);
  }
  const tooDeep = depthOf(data, MAX_FILE_DEPTH);
  if (tooDeep) {
    report(tooDeep, `nested too deeply: expected at most ${MAX_FILE_DEPTH} levels, got more`);
    throw new SearchSpaceError(file, issues);
  }

  if (isObject(data)) applyRunWith(data, options.run, report);

  // Structure. A parameter entry with none of the keys that give it a shape gets one clear message
  // instead of the schema's "min is required".
  const shapeless = new Set<string>();
  for (const path of isObject(data) ? shapelessEntries(data.parameters) : []) {
    shapeless.add(formatPath(path));
    report(path, 'expected value, values, min and max, distribution, or parameters');
  }
  const broken = new Set<string>(); // top-level keys with structural errors
  const brokenParams = new Set<string>(shapeless);
  for (const issue of validateStructure(data)) {
    const entry = entryPathOf(issue.path);
    if (entry && shapeless.has(formatPath(entry)) && issue.path.length > entry.length) continue;
    report(issue.path, issue.message);
    const top = issue.path[0];
    if (typeof top === 'string' && top !== 'parameters') broken.add(top);
    if (entry) brokenParams.add(formatPath(entry));
    else if (top === 'parameters') broken.add(top);
  }
  if (!isObject(data)) throw new SearchSpaceError(file, issues);
  const ok = (key: string): boolean => key in data && !broken.has(key);

  // program/command run as a command task when the file has no `task` (docs/TASKS.md); with one, ignored.
  const ignored = IGNORED_KEYS.filter(
    (k) => k in data && ((k !== 'program' && k !== 'command') || 'task' in data),
  );
  if (ignored.length > 0) warn([ignored[0]], `ignored by hpo (W&B keys): ${ignored.join(', ')}`);

  // Parameters, in file order; null for entries that are present but malformed.
  const parsed = new ParamsWalker({ doc, report, warn, broken: brokenParams }).walk(
    ok('parameters') ? data.parameters : {},
  );
  const specs = parsed.specs;

  const method = (ok('method') ? data.method : undefined) as Method | undefined;
  let gridOk = method === 'grid';
  if (method === 'grid') {
    for (const scope of scopes(parsed)) {
      for (const [name, spec] of Object.entries(scope.specs)) {
        if (!spec) {
          gridOk = false;
          continue;
        }
        const own = spec.kind === 'categorical' ? spec.values.length : valueCount(spec);
        if (own !== null) continue;
        gridOk = false;
        const path = scope.paths.get(name) as PathSegment[];
        const raw = doc.getIn(path) as unknown;
        report(
          isMap(raw) && raw.has('distribution') ? [...path, 'distribution'] : path,
          `method grid needs a finite parameter (value, values, int_uniform, q_uniform or q_log_uniform_values); ${spec.kind} is continuous`,
        );
      }
    }
  }
  if (gridOk && issues.length === 0) {
    const size = scopeSize(specs as ParamSpecs);
    const limit = options.maxGrid ?? DEFAULT_MAX_GRID;
    if (size !== null && size > limit) {
      report(
        ['parameters'],
        `the grid has ${size} configurations, more than the limit of ${limit} (--max-grid)`,
      );
    }
  }

  // The task and its parameter catalogue (trial-task.ts).
  const { task, commandTask, known: taskOk, command } = trialTask(data, ok, options.tasks, report);
  if (taskOk && task !== undefined && options.tasks.validateParams) {
    for (const scope of scopes(parsed)) {
      options.tasks.validateParams(task, scope.specs, (path, message) => {
        const entry = typeof path[1] === 'string' ? scope.paths.get(path[1]) : undefined;
        report(entry ? [...entry, ...path.slice(2)] : path, message);
      });
    }
  }

  let metric: SearchSpace['metric'] = { ...DEFAULT_METRIC };
  if (ok('metric')) {
    const raw = data.metric as Record<string, unknown>;
    metric = { name: raw.name as string, goal: (raw.goal as Goal | undefined) ?? 'minimize' };
    if (raw.goal === undefined) warn(['metric'], "metric.goal not given: minimize (W&B's default)");
    if (typeof raw.target === 'number') metric.target = raw.target;
  }
  const metricName = isObject(data.metric) ? data.metric.name : undefined;
  if (taskOk && task !== undefined && typeof metricName === 'string' && metricName !== '') {
    const metrics = options.tasks.metrics?.(task);
    if (metrics && !metrics.includes(metricName)) {
      report(
        ['metric', 'name'],
        `expected a metric task ${task} reports (one of ${metrics.join(', ')}), got ${show(metricName)}`,
      );
    }
  }
  if (typeof metricName === 'string' && /^test_/.test(metricName)) {
    report(
      ['metric', 'name'],
      `expected a validation metric: test metrics never drive selection or early stopping, got ${show(metricName)}`,
    );
  }

  let runTimeBudget: number | undefined;
  if ('run_time_budget' in data) {
    runTimeBudget = parseDuration(data.run_time_budget);
    if (runTimeBudget === undefined && !broken.has('run_time_budget')) {
      report(
        ['run_time_budget'],
        `expected a duration (seconds, or e.g. 90s, 15m, 2h, 1h30m), got ${show(data.run_time_budget)}`,
      );
    }
  }

  let earlyTerminate: EarlyTerminate | undefined;
  if (ok('early_terminate')) {
    earlyTerminate = { ...(data.early_terminate as EarlyTerminate) };
    const taskEpochs = taskOk ? options.tasks.defaults?.(task as string)?.epochs : undefined;
    const epochs = trialEpochs(specs.epochs, taskEpochs);
    if (earlyTerminate.type === 'hyperband') {
      checkHyperband(earlyTerminate, epochs?.max, report);
      hyperbandWarnings(earlyTerminate, epochs, warn);
    }
  }
  if (method === 'bayes') {
    for (const scope of scopes(parsed)) {
      for (const [name, spec] of Object.entries(scope.specs)) {
        if (
          spec?.kind === 'normal' ||
          spec?.kind === 'log_normal' ||
          spec?.kind === 'q_normal' ||
          spec?.kind === 'q_log_normal'
        ) {
          warn(
            scope.paths.get(name) as PathSegment[],
            `bayes (TPE) searches ${spec.kind} within mu +- 4 sigma after its random start-up trials`,
          );
        }
      }
    }
  }
  if (method === 'grid') {
    for (const scope of scopes(parsed)) {
      for (const [name, spec] of Object.entries(scope.specs)) {
        if (spec?.kind === 'categorical' && spec.probabilities) {
          warn(
            [...(scope.paths.get(name) as PathSegment[]), 'probabilities'],
            'ignored by method grid (every value is tried)',
          );
        }
      }
    }
  }

  if (issues.length > 0) {
    // Report in file order (stable for issues at the same line).
    const ordered = issues.map((issue, i) => ({ issue, i }));
    ordered.sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || a.i - b.i);
    throw new SearchSpaceError(
      file,
      ordered.map((o) => o.issue),
    );
  }

  // Everything is valid from here on.
  const parameters: ParamSpecs = { ...(specs as ParamSpecs) };
  const named = new Set(scopes(parsed).flatMap((scope) => Object.keys(scope.specs)));
  const defaulted: string[] = [];
  const taskDefaults = taskOk ? (options.tasks.defaults?.(task as string) ?? {}) : {};
  for (const [name, value] of Object.entries(taskDefaults)) {
    if (!named.has(name)) {
      parameters[name] = { kind: 'constant', value };
      defaulted.push(name);
    }
  }

  const space: SearchSpace = {
    method: method as Method,
    metric,
    parameters,
    task: task as string,
    seed: (data.seed as number | undefined) ?? DEFAULT_SEED,
    data: {
      seed: ((data.data as Record<string, unknown> | undefined)?.seed as number | undefined) ?? DEFAULT_SEED,
    },
  };
  if (data.run_cap !== undefined) space.run_cap = data.run_cap as number;
  if (runTimeBudget !== undefined) space.run_time_budget = runTimeBudget;
  if (earlyTerminate) space.early_terminate = earlyTerminate;
  if (typeof data.description === 'string') space.description = data.description;
  if (defaulted.length > 0) space.defaulted = defaulted;
  if (commandTask) {
    space.program = data.program as string;
    if (command) space.command = command;
  }
  warnings.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { space, warnings };
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
