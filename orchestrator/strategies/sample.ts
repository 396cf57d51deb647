/** Drawing parameter values from their distributions with the integer PRNG (never Math.random). */
import type { ParamValue, TrialParams } from '../../shared/protocol/index.js';
import { type Prng, unitFloat } from '../../shared/prng.js';
import type { ParamSpec, SearchSpace } from '../search-space/types.js';
import { qRange, qValue } from '../search-space/values.js';

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
      return spec.values[prng.below(spec.values.length)];
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
  }
}

function logUniform(min: number, max: number, u: number): number {
  const lo = Math.log(min);
  return Math.exp(lo + u * (Math.log(max) - lo));
}

/** One configuration: every parameter drawn in file order from the same generator. */
export function sampleConfig(space: SearchSpace, prng: Prng): TrialParams {
  const params: TrialParams = {};
  for (const [name, spec] of Object.entries(space.parameters)) params[name] = sampleParam(spec, prng);
  return params;
}
