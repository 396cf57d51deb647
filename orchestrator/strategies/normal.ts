/** The standard normal distribution's pieces the Parzen estimators need. */
import { type Prng, unitFloat } from '../../shared/prng.js';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** erf(x), Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return sign * y;
}

/** The standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** log of the N(mu, sigma) density at x. */
export function normalLogPdf(x: number, mu: number, sigma: number): number {
  const z = (x - mu) / sigma;
  return -0.5 * z * z - Math.log(sigma) - LOG_SQRT_2PI;
}

/** A standard normal draw (Box-Muller on two uint32-based uniforms). */
export function normalDraw(prng: Prng): number {
  const u1 = 1 - unitFloat(prng); // (0, 1]
  const u2 = unitFloat(prng);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** log(sum(exp(xs))) without overflow; -Infinity for an empty list. */
export function logSumExp(xs: readonly number[]): number {
  let max = -Infinity;
  for (const x of xs) if (x > max) max = x;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - max);
  return max + Math.log(sum);
}
