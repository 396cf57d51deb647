/**
 * Parses and validates a search-space file (docs/SEARCH-SPACES.md): YAML syntax, then structure against
 * search-spaces/sweep.schema.json (ajv), then the semantic rules in code (min <= max, log min > 0, the
 * multiples of q, grid needs finite parameters, the task and its parameter catalogue, hyperband settings).
 * Every problem found is collected and thrown together as one SearchSpaceError.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { ParamValue } from '../../shared/protocol/index.js';
import { UsageError } from '../../shared/errors.js';
import { SearchSpaceError, type SearchSpaceIssue } from '../../shared/errors.js';
import { formatPath, show, validateStructure } from './schema.js';
import type { PathSegment, TaskCatalog } from './task-catalog.js';
import { bracketRungs, hyperbandSettings } from './hyperband.js';
import type { EarlyTerminate, Goal, HyperbandTerminate, Method, ParamSpec, SearchSpace } from './types.js';
import { qRange, qValue } from './values.js';

export interface ParseOptions {
  /** Shown in front of every error line; default `<search space>`. */
  file?: string;
  /** The tasks a file may name, with their parameter rules (see builtin-tasks.ts). */
  tasks: TaskCatalog;
}

export const DEFAULT_TASK = 'multi-digit-mnist';
export const DEFAULT_METRIC = { name: 'val_acc', goal: 'maximize' } as const;
export const DEFAULT_SEED = 1;

/** int_uniform may span at most this many integers (what Prng.below can draw from). */
const MAX_INT_RANGE = 2 ** 32;

type Raw = Record<string, unknown>;

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

/** True when the scalar at `path` was written as a float (`1.0`, `1e3`), which YAML reads as a JS integer. */
function writtenAsFloat(doc: Document, path: readonly PathSegment[]): boolean {
  const node = doc.getIn(path, true);
  if (!isScalar(node) || typeof node.source !== 'string') return false;
  return /^[-+]?(\d*\.\d*|\d+(\.\d*)?[eE][-+]?\d+)$/.test(node.source.trim());
}

function isObject(value: unknown): value is Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A structurally valid parameter entry → its normalized spec. */
function toSpec(name: string, raw: Raw, doc: Document): ParamSpec {
  const min = raw.min as number;
  const max = raw.max as number;
  switch (raw.distribution) {
    case 'constant':
      return { kind: 'constant', value: raw.value as ParamValue };
    case 'categorical':
      return { kind: 'categorical', values: raw.values as ParamValue[] };
    case 'uniform':
    case 'int_uniform':
    case 'log_uniform_values':
      return { kind: raw.distribution, min, max };
    case 'q_uniform':
    case 'q_log_uniform_values':
      return { kind: raw.distribution, min, max, q: raw.q as number };
  }
  if ('value' in raw) return { kind: 'constant', value: raw.value as ParamValue };
  if ('values' in raw) return { kind: 'categorical', values: raw.values as ParamValue[] };
  // W&B: min and max without a distribution are int_uniform when both are integers, else uniform.
  const integers =
    Number.isInteger(min) &&
    Number.isInteger(max) &&
    !writtenAsFloat(doc, ['parameters', name, 'min']) &&
    !writtenAsFloat(doc, ['parameters', name, 'max']);
  return { kind: integers ? 'int_uniform' : 'uniform', min, max };
}

/** The semantic rules of one spec that the schema cannot express. */
function checkSpec(name: string, spec: ParamSpec, report: (p: PathSegment[], m: string) => void): void {
  if (spec.kind === 'constant' || spec.kind === 'categorical') return;
  const at = (key: string): PathSegment[] => ['parameters', name, key];
  if (spec.min > spec.max) {
    report(at('min'), `expected a number <= max (${spec.max}), got ${show(spec.min)}`);
    return;
  }
  if ((spec.kind === 'log_uniform_values' || spec.kind === 'q_log_uniform_values') && spec.min <= 0) {
    report(at('min'), `expected a number > 0 (${spec.kind} samples in log space), got ${show(spec.min)}`);
    return;
  }
  if (spec.kind === 'int_uniform') {
    if (
      !Number.isSafeInteger(spec.min) ||
      !Number.isSafeInteger(spec.max) ||
      spec.max - spec.min + 1 > MAX_INT_RANGE
    ) {
      report(
        at('max'),
        `expected at most ${MAX_INT_RANGE} integers between min and max, got ${spec.min}..${spec.max}`,
      );
    }
    return;
  }
  if (spec.kind === 'q_uniform' || spec.kind === 'q_log_uniform_values') {
    const { kmin, kmax } = qRange(spec.min, spec.max, spec.q);
    if (kmin > kmax) {
      report(
        at('q'),
        `expected a q with a multiple in [min, max] = [${spec.min}, ${spec.max}], got ${show(spec.q)}`,
      );
    } else if (
      !Number.isSafeInteger(kmin) ||
      !Number.isSafeInteger(kmax) ||
      kmax - kmin + 1 > MAX_INT_RANGE
    ) {
      report(
        at('q'),
        `expected at most ${MAX_INT_RANGE} multiples of q in [min, max], got q ${show(spec.q)}`,
      );
    }
  }
}

/** The largest number a parameter can take (undefined when it takes none). */
function largestNumber(spec: ParamSpec): number | undefined {
  switch (spec.kind) {
    case 'constant':
      return typeof spec.value === 'number' ? spec.value : undefined;
    case 'categorical': {
      const numbers = spec.values.filter((v): v is number => typeof v === 'number');
      return numbers.length > 0 ? Math.max(...numbers) : undefined;
    }
    case 'q_uniform':
    case 'q_log_uniform_values':
      return qValue(qRange(spec.min, spec.max, spec.q).kmax, spec.q);
    default:
      return spec.max;
  }
}

/**
 * hyperband's rules beyond the schema: min_iter or max_iter, min_iter <= max_iter, every bracket has a
 * rung below max_iter, and the trials' epochs reach max_iter (or, without it, the first rung).
 */
function checkHyperband(
  et: HyperbandTerminate,
  maxEpochs: number | undefined,
  report: (p: PathSegment[], m: string) => void,
): void {
  const { min_iter: minIter, max_iter: maxIter } = et;
  if (minIter === undefined && maxIter === undefined) {
    report(['early_terminate'], 'expected min_iter or max_iter');
    return;
  }
  if (minIter !== undefined && maxIter !== undefined && minIter > maxIter) {
    report(['early_terminate', 'min_iter'], `expected an integer <= max_iter (${maxIter}), got ${minIter}`);
    return;
  }
  const settings = hyperbandSettings(et);
  if (settings.brackets > 1 && bracketRungs(settings, settings.brackets - 1).length === 0) {
    report(
      ['early_terminate', 's'],
      `expected brackets that each have a rung below max_iter (${maxIter}): min_iter * eta^(s-1) < max_iter, got ${settings.brackets}`,
    );
  }
  if (maxEpochs === undefined) return;
  if (maxIter !== undefined && maxEpochs < maxIter) {
    report(
      ['early_terminate', 'max_iter'],
      `expected at most the trials' epochs (parameters.epochs, up to ${maxEpochs}), got ${maxIter}`,
    );
  } else if (maxIter === undefined && maxEpochs < settings.minIter) {
    report(
      ['early_terminate', 'min_iter'],
      `expected at most the trials' epochs (parameters.epochs, up to ${maxEpochs}), got ${settings.minIter}`,
    );
  }
}

/**
 * Parses a search-space file's text. Throws a SearchSpaceError listing every problem (YAML syntax errors
 * alone when the text is not valid YAML).
 */
export function parseSearchSpace(text: string, options: ParseOptions): SearchSpace {
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
  const report = (path: readonly PathSegment[], message: string): void => {
    const pos = locate(doc, lineCounter, path);
    issues.push({ path: formatPath(path), message, ...(pos ? { line: pos.line } : {}) });
  };

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

  // Structure. A parameter entry with none of the keys that give it a shape gets one clear message
  // instead of the schema's "min is required".
  const shapeless = new Set<string>();
  if (isObject(data) && isObject(data.parameters)) {
    for (const [name, entry] of Object.entries(data.parameters)) {
      if (isObject(entry) && !['value', 'values', 'distribution', 'min', 'max'].some((k) => k in entry)) {
        shapeless.add(name);
        report(['parameters', name], 'expected value, values, min and max, or distribution');
      }
    }
  }
  const broken = new Set<string>(); // top-level keys with structural errors
  const brokenParams = new Set<string>();
  for (const issue of validateStructure(data)) {
    const [top, name] = issue.path;
    if (top === 'parameters' && typeof name === 'string' && shapeless.has(name) && issue.path.length > 2)
      continue;
    report(issue.path, issue.message);
    if (typeof top === 'string') broken.add(top);
    if (top === 'parameters' && typeof name === 'string') brokenParams.add(name);
  }
  for (const name of shapeless) brokenParams.add(name);
  if (!isObject(data)) throw new SearchSpaceError(file, issues);
  const ok = (key: string): boolean => key in data && !broken.has(key);

  // Parameters, in file order; null for entries that are present but malformed.
  const specs: Record<string, ParamSpec | null> = {};
  const rawParams = isObject(data.parameters) ? data.parameters : {};
  for (const [name, entry] of Object.entries(rawParams)) {
    if (brokenParams.has(name) || !isObject(entry)) {
      specs[name] = null;
      continue;
    }
    const spec = toSpec(name, entry, doc);
    const before = issues.length;
    checkSpec(name, spec, report);
    specs[name] = issues.length === before ? spec : null;
  }

  const method = (ok('method') ? data.method : undefined) as Method | undefined;
  if (method === 'grid') {
    for (const [name, spec] of Object.entries(specs)) {
      if (spec && (spec.kind === 'uniform' || spec.kind === 'log_uniform_values')) {
        const path =
          'distribution' in (rawParams[name] as Raw)
            ? ['parameters', name, 'distribution']
            : ['parameters', name];
        report(
          path,
          `method grid needs a finite parameter (value, values, int_uniform, q_uniform or q_log_uniform_values); ${spec.kind} is continuous`,
        );
      }
    }
  }

  // The task and its parameter catalogue.
  const task = ok('task') ? (data.task as string) : 'task' in data ? undefined : DEFAULT_TASK;
  const known = options.tasks.names();
  let taskOk = false;
  if (task !== undefined) {
    if (!known.includes(task)) report(['task'], `expected one of ${known.join(', ')}, got ${show(task)}`);
    else taskOk = true;
  }
  if (taskOk && task !== undefined) {
    options.tasks.validateParams?.(task, specs, report);
  }

  const metric = ok('metric')
    ? { name: (data.metric as Raw).name as string, goal: (data.metric as Raw).goal as Goal }
    : { ...DEFAULT_METRIC };
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

  let earlyTerminate: EarlyTerminate | undefined;
  if (ok('early_terminate')) {
    earlyTerminate = { ...(data.early_terminate as EarlyTerminate) };
    const epochsSpec = specs.epochs;
    const taskEpochs = task === undefined ? undefined : options.tasks.defaults?.(task)?.epochs;
    const maxEpochs =
      epochsSpec === null
        ? undefined
        : epochsSpec === undefined
          ? typeof taskEpochs === 'number'
            ? taskEpochs
            : undefined
          : largestNumber(epochsSpec);
    if (earlyTerminate.type === 'hyperband') checkHyperband(earlyTerminate, maxEpochs, report);
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
  const parameters: Record<string, ParamSpec> = {};
  for (const [name, spec] of Object.entries(specs)) parameters[name] = spec as ParamSpec;
  const defaulted: string[] = [];
  for (const [name, value] of Object.entries(options.tasks.defaults?.(task as string) ?? {})) {
    if (!(name in parameters)) {
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
    data: { seed: ((data.data as Raw | undefined)?.seed as number | undefined) ?? DEFAULT_SEED },
  };
  if (data.run_cap !== undefined) space.run_cap = data.run_cap as number;
  if (earlyTerminate) space.early_terminate = earlyTerminate;
  if (typeof data.description === 'string') space.description = data.description;
  if (defaulted.length > 0) space.defaulted = defaulted;
  return space;
}

/** A search-space file's parsed space and its text as read (for the experiment record). */
export interface LoadedSearchSpace {
  space: SearchSpace;
  source: string;
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
  return { space: parseSearchSpace(source, { ...options, file: options.file ?? path }), source };
}

/** Reads and parses a search-space file (see readSearchSpaceFile to also get its text). */
export function loadSearchSpaceFile(path: string, options: ParseOptions): SearchSpace {
  return readSearchSpaceFile(path, options).space;
}
