/** Drawing parameter values from their distributions with the integer PRNG (never Math.random). */
import type { ParamValue, TrialParams } from '../../shared/protocol/index.js';
import { type Prng, unitFloat } from '../../shared/prng.js';
import type { ParamSpec, ParamSpecs, SearchSpace } from '../search-space/types.js';
import { qRange, qValue } from '../search-space/values.js';
import { normalDraw } from './normal.js';

function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x));
}

/** The multiple of q nearest to x, kept among the multiples of q that lie in [min, max]. */
function toMultiple(x: number, min: number, max: number, q: number): number {
  const { kmin, kmax } = qRange(min, max, q);
  return qValue(clamp(Math.round(x / q), kmin, kmax), q);
}

/**
 * One draw from the parameter's distribution:
 * - constant: its value (no draw); categorical: a uniform choice;
 * - uniform: min + u (max - min); log_uniform_values: exp of a uniform draw between ln min and ln max;
 * - int_uniform: a uniform integer in [min, max], both ends included;
 * - q_uniform / q_log_uniform_values: the uniform / log-uniform draw rounded to the nearest multiple of q,
 *   clamped to the multiples of q inside [min, max].
 * u is `unitFloat`; continuous results are clamped to [min, max] against rounding.
 */
export function sampleParam(spec: ParamSpec, prng: Prng): ParamValue {
  switch (spec.kind) {
    case 'constant':
      return spec.value;
    case 'categorical':
      return spec.values[choose(spec.values.length, spec.probabilities, prng)];
    case 'int_uniform':
      return spec.min + prng.below(spec.max - spec.min + 1);
    case 'uniform':
      return clamp(spec.min + unitFloat(prng) * (spec.max - spec.min), spec.min, spec.max);
    case 'log_uniform_values':
      return clamp(logUniform(spec.min, spec.max, unitFloat(prng)), spec.min, spec.max);
    case 'q_uniform':
      return toMultiple(spec.min + unitFloat(prng) * (spec.max - spec.min), spec.min, spec.max, spec.q);
    case 'q_log_uniform_values':
      return toMultiple(logUniform(spec.min, spec.max, unitFloat(prng)), spec.min, spec.max, spec.q);
    case 'normal':
      return spec.mu + spec.sigma * normalDraw(prng);
    case 'log_normal':
      return Math.exp(spec.mu + spec.sigma * normalDraw(prng));
    case 'q_normal':
      return qValue(Math.round((spec.mu + spec.sigma * normalDraw(prng)) / spec.q), spec.q);
    case 'q_log_normal':
      return qValue(Math.round(Math.exp(spec.mu + spec.sigma * normalDraw(prng)) / spec.q), spec.q);
  }
}

/** An index in [0, n): uniform (prng.below), or weighted by `probabilities` (one unit draw). */
function choose(n: number, probabilities: readonly number[] | undefined, prng: Prng): number {
  if (!probabilities) return prng.below(n);
  let u = unitFloat(prng) * probabilities.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    u -= probabilities[i];
    if (u < 0) return i;
  }
  // Rounding: the last value with a non-zero probability.
  for (let i = n - 1; i > 0; i--) if (probabilities[i] > 0) return i;
  return 0;
}

function logUniform(min: number, max: number, u: number): number {
  const lo = Math.log(min);
  return Math.exp(lo + u * (Math.log(max) - lo));
}

/** Draws a scope's parameters in file order; a categorical's branch right after the categorical. */
export function sampleScope(specs: ParamSpecs, prng: Prng, out: TrialParams): void {
  for (const [name, spec] of Object.entries(specs)) {
    const value = sampleParam(spec, prng);
    out[name] = value;
    if (spec.kind === 'categorical' && spec.branches) {
      const branch = spec.branches[spec.values.indexOf(value)];
      if (branch) sampleScope(branch, prng, out);
    }
  }
}

/**
 * One configuration: every active parameter drawn in file order from the same generator (a branch's
 * parameters only when their categorical took the branch's value).
 */
export function sampleConfig(space: SearchSpace, prng: Prng): TrialParams {
  const params: TrialParams = {};
  sampleScope(space.parameters, prng, params);
  return params;
}
