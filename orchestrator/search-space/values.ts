/**
 * The value sets of parameters: which are finite, how many values they have, the i-th value in grid
 * order, membership. Shared by the parser (grid checks), the grid strategy and the random strategy.
 *
 * Finite parameters: `constant` (1 value), `categorical` (its values, in file order; a value with a
 * branch counts as every configuration of the branch), `int_uniform` (every integer min..max, ascending),
 * and `q_uniform` / `q_log_uniform_values` (every multiple of q in [min, max], ascending). `uniform`,
 * `log_uniform_values` and the normal family are continuous (or unbounded).
 */
import type { ParamValue, TrialParams } from '../../shared/protocol/index.js';
import type { CategoricalSpec, ParamSpec, ParamSpecs, SearchSpace } from './types.js';

/** Slack for float division when finding the multiples of q inside [min, max]. */
const Q_EPSILON = 1e-9;

/** The multiples k*q that lie in [min, max]: k from `kmin` to `kmax` (empty when kmin > kmax). */
export function qRange(min: number, max: number, q: number): { kmin: number; kmax: number } {
  return { kmin: Math.ceil(min / q - Q_EPSILON), kmax: Math.floor(max / q + Q_EPSILON) };
}

/**
 * k*q, canonicalised: exact when q is an integer, otherwise rounded to 15 significant digits so that
 * 3 * 0.1 is 0.3 (not 0.30000000000000004) and equal values always compare (and key) equal.
 */
export function qValue(k: number, q: number): number {
  const v = k * q;
  return Number.isInteger(q) ? v : Number(v.toPrecision(15));
}

/** Canonical JSON of a value (mapping keys sorted), so equal lists / mappings compare equal. */
export function valueKey(value: ParamValue | undefined): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(valueKey).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${valueKey(value[k])}`).join(',')}}`;
}

/** The index of `value` among a categorical's values (by canonical JSON), -1 when absent. */
export function choiceIndex(spec: CategoricalSpec, value: ParamValue | undefined): number {
  if (value === undefined) return -1;
  if (value === null || typeof value !== 'object') return spec.values.indexOf(value);
  const key = valueKey(value);
  return spec.values.findIndex((v) => valueKey(v) === key);
}

/** The branch (conditional parameters) of a categorical's i-th value, if any. */
export function branchOf(spec: ParamSpec, i: number): ParamSpecs | null {
  return spec.kind === 'categorical' ? (spec.branches?.[i] ?? null) : null;
}

/** True for the parameter kinds with finitely many values (ignoring branches). */
export function isFiniteSpec(spec: ParamSpec): boolean {
  return valueCount(spec) !== null;
}

/** How many configurations a scope has (product of its parameters' counts), null when one is infinite. */
export function scopeSize(specs: ParamSpecs): number | null {
  let size = 1;
  for (const spec of Object.values(specs)) {
    const n = valueCount(spec);
    if (n === null) return null;
    size *= n;
  }
  return size;
}

/**
 * How many values the parameter can take, or null when it is continuous or unbounded. A categorical
 * value with a branch counts as its branch's configurations.
 */
export function valueCount(spec: ParamSpec): number | null {
  switch (spec.kind) {
    case 'constant':
      return 1;
    case 'categorical': {
      if (!spec.branches) return spec.values.length;
      let n = 0;
      for (let i = 0; i < spec.values.length; i++) {
        const branch = spec.branches[i];
        const size = branch ? scopeSize(branch) : 1;
        if (size === null) return null;
        n += size;
      }
      return n;
    }
    case 'int_uniform':
      return spec.max - spec.min + 1;
    case 'q_uniform':
    case 'q_log_uniform_values': {
      const { kmin, kmax } = qRange(spec.min, spec.max, spec.q);
      return Math.max(0, kmax - kmin + 1);
    }
    default:
      return null;
  }
}

/** The i-th value (0-based, grid order) of a finite parameter without branches. */
export function valueAt(spec: ParamSpec, i: number): ParamValue {
  switch (spec.kind) {
    case 'constant':
      return spec.value;
    case 'categorical':
      return spec.values[i];
    case 'int_uniform':
      return spec.min + i;
    case 'q_uniform':
    case 'q_log_uniform_values':
      return qValue(qRange(spec.min, spec.max, spec.q).kmin + i, spec.q);
    default:
      throw new RangeError(`valueAt: a ${spec.kind} parameter has no finite value list`);
  }
}

/** Writes the parameter's i-th grid value (and, for a branch, that branch's configuration) into `out`. */
function assignAt(name: string, spec: ParamSpec, i: number, out: TrialParams): void {
  if (spec.kind !== 'categorical' || !spec.branches) {
    out[name] = valueAt(spec, i);
    return;
  }
  let rest = i;
  for (let v = 0; v < spec.values.length; v++) {
    const branch = spec.branches[v];
    const size = branch ? (scopeSize(branch) as number) : 1;
    if (rest < size) {
      out[name] = spec.values[v];
      if (branch) scopeAt(branch, rest, out);
      return;
    }
    rest -= size;
  }
  throw new RangeError(`configAt: index out of range for parameter ${name}`);
}

/** Configuration number `index` of a finite scope in odometer order (the last parameter fastest). */
function scopeAt(specs: ParamSpecs, index: number, out: TrialParams): void {
  const entries = Object.entries(specs);
  const digits = new Array<number>(entries.length);
  let rest = index;
  for (let p = entries.length - 1; p >= 0; p--) {
    const n = valueCount(entries[p][1]);
    if (n === null) throw new RangeError(`configAt: parameter ${entries[p][0]} is continuous`);
    digits[p] = rest % n;
    rest = Math.floor(rest / n);
  }
  entries.forEach(([name, spec], p) => assignAt(name, spec, digits[p], out));
}

/** Whether `value` is one the parameter can take (continuous ones: a number in range). */
export function containsValue(spec: ParamSpec, value: ParamValue | undefined): boolean {
  const num = typeof value === 'number' && Number.isFinite(value);
  switch (spec.kind) {
    case 'constant':
      return value !== undefined && valueKey(value) === valueKey(spec.value);
    case 'categorical':
      return choiceIndex(spec, value) >= 0;
    case 'int_uniform':
      return Number.isInteger(value) && (value as number) >= spec.min && (value as number) <= spec.max;
    case 'q_uniform':
    case 'q_log_uniform_values': {
      if (!num) return false;
      const { kmin, kmax } = qRange(spec.min, spec.max, spec.q);
      const k = Math.round((value as number) / spec.q);
      return k >= kmin && k <= kmax && qValue(k, spec.q) === value;
    }
    case 'uniform':
    case 'log_uniform_values':
      return num && (value as number) >= spec.min && (value as number) <= spec.max;
    case 'normal':
      return num;
    case 'log_normal':
      return num && (value as number) > 0;
    case 'q_normal':
    case 'q_log_normal':
      return (
        num &&
        (spec.kind === 'q_normal' || (value as number) >= 0) &&
        qValue(Math.round((value as number) / spec.q), spec.q) === value
      );
  }
}

/**
 * How many configurations the space has (the product of the parameters' value counts, branches
 * summed), or null when a parameter is continuous. Ignores run_cap.
 */
export function gridSize(space: SearchSpace): number | null {
  return scopeSize(space.parameters);
}

/** True when every parameter has finitely many values (so grid search can enumerate the space). */
export function isFiniteSpace(space: SearchSpace): boolean {
  return gridSize(space) !== null;
}

export { isFiniteSpace as isFinite };

/**
 * Configuration number `index` (0-based) of a finite space in odometer order: parameters in file order,
 * the first varying slowest, the last fastest; each parameter's values in `valueAt` order; a value with a
 * branch expands, in place, into every configuration of its branch. Inactive parameters are absent.
 */
export function configAt(space: SearchSpace, index: number): TrialParams {
  const params: TrialParams = {};
  scopeAt(space.parameters, index, params);
  return params;
}

function scopeContains(specs: ParamSpecs, params: Readonly<TrialParams>): boolean {
  for (const [name, spec] of Object.entries(specs)) {
    if (!Object.prototype.hasOwnProperty.call(params, name)) return false;
    if (!containsValue(spec, params[name])) return false;
    if (spec.kind === 'categorical' && spec.branches) {
      const branch = spec.branches[choiceIndex(spec, params[name])];
      if (branch && !scopeContains(branch, params)) return false;
    }
  }
  return true;
}

/** Whether `params` gives every active parameter of the space a value the parameter can take. */
export function inSpace(space: SearchSpace, params: Readonly<TrialParams>): boolean {
  return scopeContains(space.parameters, params);
}

/** Every parameter name of the space, branches included (each once), in file order. */
export function allParamNames(space: Pick<SearchSpace, 'parameters'>): string[] {
  const names = new Set<string>();
  const walk = (specs: ParamSpecs): void => {
    for (const [name, spec] of Object.entries(specs)) {
      names.add(name);
      if (spec.kind === 'categorical') for (const b of spec.branches ?? []) if (b) walk(b);
    }
  };
  walk(space.parameters);
  return [...names];
}

/** True when some parameter of the space exists only in a branch. */
export function isConditional(space: Pick<SearchSpace, 'parameters'>): boolean {
  return Object.values(space.parameters).some((s) => s.kind === 'categorical' && s.branches !== undefined);
}
