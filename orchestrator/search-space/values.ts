/**
 * The value sets of parameters: which are finite, how many values they have, the i-th value in grid
 * order, membership. Shared by the parser (grid checks), the grid strategy and the random strategy.
 *
 * Finite parameters: `constant` (1 value), `categorical` (its values, in file order), `int_uniform` (every
 * integer min..max, ascending), and `q_uniform` / `q_log_uniform_values` (every multiple of q in [min, max],
 * ascending). `uniform` and `log_uniform_values` are continuous.
 */
import type { ParamValue, TrialParams } from '../../shared/protocol/index.js';
import type { ParamSpec, SearchSpace } from './types.js';

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

/** True for the parameter kinds with finitely many values. */
export function isFiniteSpec(spec: ParamSpec): boolean {
  return spec.kind !== 'uniform' && spec.kind !== 'log_uniform_values';
}

/** How many values the parameter can take, or null when it is continuous. */
export function valueCount(spec: ParamSpec): number | null {
  switch (spec.kind) {
    case 'constant':
      return 1;
    case 'categorical':
      return spec.values.length;
    case 'int_uniform':
      return spec.max - spec.min + 1;
    case 'q_uniform':
    case 'q_log_uniform_values': {
      const { kmin, kmax } = qRange(spec.min, spec.max, spec.q);
      return Math.max(0, kmax - kmin + 1);
    }
    case 'uniform':
    case 'log_uniform_values':
      return null;
  }
}

/** The i-th value (0-based, grid order) of a finite parameter. */
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
    case 'uniform':
    case 'log_uniform_values':
      throw new RangeError(`valueAt: a ${spec.kind} parameter has no finite value list`);
  }
}

/** Whether `value` is one the parameter can take (for continuous ones: a number in [min, max]). */
export function containsValue(spec: ParamSpec, value: ParamValue | undefined): boolean {
  switch (spec.kind) {
    case 'constant':
      return value === spec.value;
    case 'categorical':
      return spec.values.includes(value as ParamValue);
    case 'int_uniform':
      return Number.isInteger(value) && (value as number) >= spec.min && (value as number) <= spec.max;
    case 'q_uniform':
    case 'q_log_uniform_values': {
      if (typeof value !== 'number') return false;
      const { kmin, kmax } = qRange(spec.min, spec.max, spec.q);
      const k = Math.round(value / spec.q);
      return k >= kmin && k <= kmax && qValue(k, spec.q) === value;
    }
    case 'uniform':
    case 'log_uniform_values':
      return typeof value === 'number' && value >= spec.min && value <= spec.max;
  }
}

/**
 * How many configurations the space has (the product of the parameters' value counts), or null when a
 * parameter is continuous. Ignores run_cap.
 */
export function gridSize(space: SearchSpace): number | null {
  let size = 1;
  for (const spec of Object.values(space.parameters)) {
    const n = valueCount(spec);
    if (n === null) return null;
    size *= n;
  }
  return size;
}

/** True when every parameter has finitely many values (so grid search can enumerate the space). */
export function isFiniteSpace(space: SearchSpace): boolean {
  return gridSize(space) !== null;
}

export { isFiniteSpace as isFinite };

/**
 * Configuration number `index` (0-based) of a finite space in odometer order: parameters in file order,
 * the first varying slowest, the last fastest; each parameter's values in `valueAt` order.
 */
export function configAt(space: SearchSpace, index: number): TrialParams {
  const entries = Object.entries(space.parameters);
  const digits = new Array<number>(entries.length);
  let rest = index;
  for (let p = entries.length - 1; p >= 0; p--) {
    const n = valueCount(entries[p][1]);
    if (n === null) throw new RangeError(`configAt: parameter ${entries[p][0]} is continuous`);
    digits[p] = rest % n;
    rest = Math.floor(rest / n);
  }
  const params: TrialParams = {};
  entries.forEach(([name, spec], p) => {
    params[name] = valueAt(spec, digits[p]);
  });
  return params;
}

/** Whether `params` gives every parameter of the space a value the parameter can take. */
export function inSpace(space: SearchSpace, params: Readonly<TrialParams>): boolean {
  return Object.entries(space.parameters).every(([name, spec]) =>
    Object.prototype.hasOwnProperty.call(params, name) ? containsValue(spec, params[name]) : false,
  );
}
