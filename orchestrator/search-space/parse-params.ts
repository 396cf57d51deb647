/**
 * The `parameters` of a search-space file, after the schema check: every entry to its normalised spec
 * (W&B's distributions, defaults for missing q / mu / sigma), W&B's nested `parameters` flattened to
 * dotted names, hpo's `branches` (conditional parameters) walked recursively, and the semantic rules a
 * schema cannot express (min <= max, log bounds, q multiples, probabilities, names defined twice).
 */
import type { Document } from 'yaml';
import type { ParamValue } from '../../shared/protocol/index.js';
import { formatPath, show } from './schema.js';
import type { PathSegment } from './task-catalog.js';
import type { ParamSpec, ParamSpecs } from './types.js';
import { isScalar } from 'yaml';
import { qRange } from './values.js';
import { dropDuplicateValues } from './duplicate-values.js';

/** Deepest nesting of `parameters` / `branches` levels under the file's `parameters`. */
export const MAX_PARAM_NESTING = 8;
/** int_uniform / q distributions may span at most this many values (what Prng.below can draw from). */
const MAX_INT_RANGE = 2 ** 32;

type Raw = Record<string, unknown>;
type Report = (path: readonly PathSegment[], message: string) => void;

export interface ParamsContext {
  doc: Document;
  report: Report;
  warn: Report;
  /** Formatted paths of parameter entries the schema already found broken. */
  broken: ReadonlySet<string>;
}

/** One scope's parameters: specs by (flattened) name (null: malformed), and each name's entry path. */
export interface ParsedScope {
  specs: Record<string, ParamSpec | null>;
  paths: Map<string, PathSegment[]>;
  /** Sub-scopes (branches), for per-scope task checks. */
  branches: ParsedScope[];
}

/** Every scope of a parsed parameters tree (the file's, then each branch, depth first). */
export function allScopes(scope: ParsedScope): ParsedScope[] {
  return [scope, ...scope.branches.flatMap(allScopes)];
}

export function isObject(value: unknown): value is Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const SHAPE_KEYS = ['value', 'values', 'distribution', 'min', 'max', 'parameters'];

/** The entry path a schema issue at `path` belongs to (the deepest parameter entry on it), or null. */
export function entryPathOf(path: readonly PathSegment[]): PathSegment[] | null {
  if (path[0] !== 'parameters' || path.length < 2) return null;
  let entry: PathSegment[] = path.slice(0, 2);
  let i = 2;
  for (;;) {
    if (path[i] === 'parameters' && path.length > i + 1) {
      entry = path.slice(0, i + 2);
      i += 2;
    } else if (path[i] === 'branches' && path.length > i + 2) {
      entry = path.slice(0, i + 3);
      i += 3;
    } else {
      return entry;
    }
  }
}

/** Parameter entries with none of the keys that give them a shape (one clear message instead of the schema's). */
export function shapelessEntries(params: unknown, base: PathSegment[] = ['parameters']): PathSegment[][] {
  const out: PathSegment[][] = [];
  if (!isObject(params)) return out;
  for (const [name, entry] of Object.entries(params)) {
    if (!isObject(entry)) continue;
    const at = [...base, name];
    if (!SHAPE_KEYS.some((k) => k in entry)) out.push(at);
    out.push(...shapelessEntries(entry.parameters, [...at, 'parameters']));
    if (isObject(entry.branches)) {
      for (const [key, branch] of Object.entries(entry.branches)) {
        out.push(...shapelessEntries(branch, [...at, 'branches', key]));
      }
    }
  }
  return out;
}

/** True when the scalar at `path` was written as a float (`1.0`, `1e3`), which YAML reads as a JS integer. */
function writtenAsFloat(doc: Document, path: readonly PathSegment[]): boolean {
  const node = doc.getIn(path, true);
  if (!isScalar(node) || typeof node.source !== 'string') return false;
  return /^[-+]?(\d*\.\d*|\d+(\.\d*)?[eE][-+]?\d+)$/.test(node.source.trim());
}

/** A structurally valid parameter entry → its normalised spec (W&B's meaning; missing q is 1). */
function toSpec(raw: Raw, at: PathSegment[], doc: Document): ParamSpec {
  const min = raw.min as number;
  const max = raw.max as number;
  const q = (raw.q as number | undefined) ?? 1;
  const mu = (raw.mu as number | undefined) ?? 0;
  const sigma = (raw.sigma as number | undefined) ?? 1;
  const categorical = (): ParamSpec => ({
    kind: 'categorical',
    values: raw.values as ParamValue[],
    ...(raw.probabilities ? { probabilities: raw.probabilities as number[] } : {}),
  });
  switch (raw.distribution) {
    case 'constant':
      return { kind: 'constant', value: raw.value as ParamValue };
    case 'categorical':
      return categorical();
    case 'uniform':
    case 'int_uniform':
    case 'log_uniform_values':
      return { kind: raw.distribution, min, max };
    case 'inv_log_uniform_values':
      return { kind: 'log_uniform_values', min, max, from: raw.distribution };
    case 'log_uniform':
      return { kind: 'log_uniform_values', min: Math.exp(min), max: Math.exp(max), from: raw.distribution };
    case 'inv_log_uniform':
      // X = 1 / exp(U), U uniform in [min, max]: log-uniform in [exp(-max), exp(-min)].
      return { kind: 'log_uniform_values', min: Math.exp(-max), max: Math.exp(-min), from: raw.distribution };
    case 'q_uniform':
    case 'q_log_uniform_values':
      return { kind: raw.distribution, min, max, q };
    case 'q_log_uniform':
      return {
        kind: 'q_log_uniform_values',
        min: Math.exp(min),
        max: Math.exp(max),
        q,
        from: raw.distribution,
      };
    case 'normal':
    case 'log_normal':
      return { kind: raw.distribution, mu, sigma };
    case 'q_normal':
    case 'q_log_normal':
      return { kind: raw.distribution, mu, sigma, q };
  }
  if ('value' in raw) return { kind: 'constant', value: raw.value as ParamValue };
  if ('values' in raw) return categorical();
  // W&B: min and max without a distribution are int_uniform when both are integers, else uniform.
  const integers =
    Number.isInteger(min) &&
    Number.isInteger(max) &&
    !writtenAsFloat(doc, [...at, 'min']) &&
    !writtenAsFloat(doc, [...at, 'max']);
  return { kind: integers ? 'int_uniform' : 'uniform', min, max };
}

/** The semantic rules of one entry that the schema cannot express. */
function checkSpec(raw: Raw, spec: ParamSpec, at: PathSegment[], report: Report): void {
  const key = (k: string): PathSegment[] => [...at, k];
  if (spec.kind === 'categorical') {
    const p = spec.probabilities;
    if (p && p.length !== spec.values.length) {
      report(
        key('probabilities'),
        `expected ${spec.values.length} probabilities (one per value), got ${p.length}`,
      );
    } else if (p && Math.abs(p.reduce((a, b) => a + b, 0) - 1) > 1e-6) {
      report(
        key('probabilities'),
        `expected probabilities that sum to 1, got ${p.reduce((a, b) => a + b, 0)}`,
      );
    }
    return;
  }
  if (spec.kind === 'constant') return;
  if (typeof raw.min === 'number' && typeof raw.max === 'number' && raw.min > raw.max) {
    report(key('min'), `expected a number <= max (${raw.max}), got ${show(raw.min)}`);
    return;
  }
  if ('mu' in spec) return; // the normal family: any mu, sigma > 0 (schema)
  if (!Number.isFinite(spec.min) || !Number.isFinite(spec.max)) {
    report(
      key('max'),
      `expected bounds whose exp() is a finite number, got ${show(raw.min)}..${show(raw.max)}`,
    );
    return;
  }
  if ((spec.kind === 'log_uniform_values' || spec.kind === 'q_log_uniform_values') && spec.min <= 0) {
    const what = spec.from ?? spec.kind;
    report(key('min'), `expected a number > 0 (${what} samples in log space), got ${show(raw.min)}`);
    return;
  }
  if (spec.kind === 'int_uniform') {
    if (
      !Number.isSafeInteger(spec.min) ||
      !Number.isSafeInteger(spec.max) ||
      spec.max - spec.min + 1 > MAX_INT_RANGE
    ) {
      report(
        key('max'),
        `expected at most ${MAX_INT_RANGE} integers between min and max, got ${spec.min}..${spec.max}`,
      );
    }
    return;
  }
  if (spec.kind === 'q_uniform' || spec.kind === 'q_log_uniform_values') {
    const { kmin, kmax } = qRange(spec.min, spec.max, spec.q);
    const where = raw.q === undefined ? ' (q defaults to 1)' : '';
    if (kmin > kmax) {
      report(
        key('q'),
        `expected a q with a multiple in [min, max] = [${spec.min}, ${spec.max}]${where}, got ${show(spec.q)}`,
      );
    } else if (
      !Number.isSafeInteger(kmin) ||
      !Number.isSafeInteger(kmax) ||
      kmax - kmin + 1 > MAX_INT_RANGE
    ) {
      report(
        key('q'),
        `expected at most ${MAX_INT_RANGE} multiples of q in [min, max], got q ${show(spec.q)}`,
      );
    }
  }
}

/** Where a name is defined, and under which branches (categorical entry path, value index). */
interface Definition {
  path: PathSegment[];
  branch: [string, number][];
}

/** Two definitions of one name may coexist only in different branches of the same categorical. */
function exclusive(a: Definition, b: Definition): boolean {
  for (let k = 0; k < Math.min(a.branch.length, b.branch.length); k++) {
    if (a.branch[k][0] !== b.branch[k][0]) return false;
    if (a.branch[k][1] !== b.branch[k][1]) return true;
  }
  return false;
}

/** Walks the file's parameters (and every branch). */
export class ParamsWalker {
  private readonly definitions = new Map<string, Definition[]>();

  constructor(private readonly ctx: ParamsContext) {}

  walk(raw: unknown): ParsedScope {
    return this.scope(raw, ['parameters'], '', 0, []);
  }

  private scope(
    raw: unknown,
    base: PathSegment[],
    prefix: string,
    depth: number,
    branch: [string, number][],
    into?: ParsedScope,
  ): ParsedScope {
    const out: ParsedScope = into ?? { specs: {}, paths: new Map(), branches: [] };
    if (!isObject(raw)) return out;
    if (depth > MAX_PARAM_NESTING) {
      this.ctx.report(
        base,
        `expected at most ${MAX_PARAM_NESTING} levels of nested parameters, got ${depth}`,
      );
      return out;
    }
    for (const [key, entry] of Object.entries(raw)) {
      const at = [...base, key];
      const name = prefix + key;
      if (isObject(entry) && 'parameters' in entry && !this.ctx.broken.has(formatPath(at))) {
        // W&B nested parameters: flattened into this scope as `key.sub`.
        if (depth === 0 && prefix === '') {
          this.ctx.warn(
            at,
            `nested parameters are flattened: trials get ${name}.<name> parameters, not a ${name} mapping`,
          );
        }
        this.scope(entry.parameters, [...at, 'parameters'], `${name}.`, depth + 1, branch, out);
        continue;
      }
      this.define(name, at, branch);
      out.paths.set(name, at);
      if (this.ctx.broken.has(formatPath(at)) || !isObject(entry)) {
        out.specs[name] = null;
        continue;
      }
      const spec = toSpec(entry, at, this.ctx.doc);
      let ok = true;
      const report: Report = (p, m) => {
        ok = false;
        this.ctx.report(p, m);
      };
      checkSpec(entry, spec, at, report);
      if (ok && spec.kind === 'categorical') dropDuplicateValues(spec, at, this.ctx.warn);
      if (isObject(entry.branches)) {
        if (spec.kind !== 'categorical') {
          report([...at, 'branches'], 'expected branches only on a parameter with values (a categorical)');
        } else if (!this.branches(spec, entry.branches, at, depth, branch, report, out)) {
          ok = false;
        }
      }
      out.specs[name] = ok ? spec : null;
    }
    return out;
  }

  private branches(
    spec: Extract<ParamSpec, { kind: 'categorical' }>,
    raw: Raw,
    at: PathSegment[],
    depth: number,
    branch: [string, number][],
    report: Report,
    out: ParsedScope,
  ): boolean {
    let ok = true;
    const list: (ParamSpecs | null)[] = spec.values.map(() => null);
    const shown = spec.values.map((v) => (v === null || typeof v !== 'object' ? String(v) : undefined));
    let any = false;
    for (const [key, rawBranch] of Object.entries(raw)) {
      const i = shown.indexOf(key);
      const bat = [...at, 'branches', key];
      if (i < 0) {
        report(
          bat,
          `expected one of the parameter's values (${shown.filter((s) => s !== undefined).join(', ')}), got ${show(key)}`,
        );
        continue;
      }
      const sub = this.scope(rawBranch, bat, '', depth + 1, [...branch, [formatPath(at), i]]);
      out.branches.push(sub);
      const specs = Object.entries(sub.specs);
      if (specs.some(([, s]) => s === null)) {
        ok = false; // already reported
        continue;
      }
      list[i] = Object.fromEntries(specs) as ParamSpecs;
      any = true;
    }
    if (any) spec.branches = list;
    return ok;
  }

  private define(name: string, path: PathSegment[], branch: [string, number][]): void {
    const def: Definition = { path, branch };
    const defs = this.definitions.get(name) ?? [];
    const clash = defs.find((d) => !exclusive(d, def));
    if (clash) {
      this.ctx.report(
        path,
        `parameter ${name} is also defined at ${formatPath(clash.path)}; a name may repeat only in different branches of one parameter`,
      );
    }
    defs.push(def);
    this.definitions.set(name, defs);
  }
}
