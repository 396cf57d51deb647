/**
 * The Parzen estimators of TPE (Bergstra et al., NeurIPS 2011), as Optuna builds them:
 *
 * - numeric: a mixture of normals truncated to [low, high], one per observation plus a prior component
 *   (centre of the range, sigma = high - low, weight `priorWeight`); each observation's sigma is the larger
 *   gap to its sorted neighbours (the range ends for the outermost), clipped to
 *   [(high - low) / min(100, 1 + components), high - low] (hyperopt's "magic clip"). Values live in the
 *   parameter's own space, log-transformed for log distributions. With a `step` (integers, q_uniform) the
 *   estimator is the discrete distribution on the grid: the mixture's mass over each cell of width step.
 * - categorical: each choice's weight is priorWeight / k plus the number of observations of it.
 */
import { normalCdf, normalDraw, normalLogPdf } from './normal.js';
import { type Prng, unitFloat } from '../../shared/prng.js';

const MAX_REJECTIONS = 100;

export interface NumericDomain {
  /** Bounds of the (transformed) space; for a stepped domain the grid's end points. */
  low: number;
  high: number;
  /** Grid spacing for integers and q_uniform, null for continuous values. */
  step: number | null;
}

export class NumericParzen {
  private readonly mus: Float64Array;
  private readonly sigmas: Float64Array;
  /** log weight minus log truncation mass, per component. */
  private readonly logCoef: Float64Array;
  /** logCoef + log of the normal density's constant (- log sigma - log sqrt(2 pi)), and 1 / sigma. */
  private readonly logDensityCoef: Float64Array;
  private readonly invSigmas: Float64Array;
  private readonly cumWeights: Float64Array;
  /** The truncation interval: the grid's cells' outer edges for a stepped domain. */
  private readonly lo: number;
  private readonly hi: number;

  constructor(
    observations: readonly number[],
    private readonly domain: NumericDomain,
    priorWeight = 1,
  ) {
    const half = domain.step === null ? 0 : domain.step / 2;
    this.lo = domain.low - half;
    this.hi = domain.high + half;
    const range = this.hi - this.lo || 1;
    const n = observations.length;
    const mus = new Float64Array(n + 1);
    const sigmas = new Float64Array(n + 1);
    const weights = new Float64Array(n + 1);
    const sorted = Float64Array.from(observations).sort();
    const minSigma = range / Math.min(100, 1 + (n + 1));
    for (let j = 0; j < n; j++) {
      const x = sorted[j];
      const left = j === 0 ? x - this.lo : x - sorted[j - 1];
      const right = j === n - 1 ? this.hi - x : sorted[j + 1] - x;
      mus[j] = x;
      sigmas[j] = Math.min(range, Math.max(minSigma, Math.max(left, right)));
      weights[j] = 1;
    }
    mus[n] = (this.lo + this.hi) / 2;
    sigmas[n] = range;
    weights[n] = priorWeight;
    const total = weights.reduce((a, b) => a + b, 0);
    this.logCoef = new Float64Array(n + 1);
    this.cumWeights = new Float64Array(n + 1);
    let cum = 0;
    const logObservationWeight = Math.log(1 / total);
    for (let j = 0; j <= n; j++) {
      const a = (this.lo - mus[j]) / sigmas[j];
      const b = (this.hi - mus[j]) / sigmas[j];
      // Components far from both ends keep all their mass (skips two erf calls for most of them).
      const mass = a < -8 && b > 8 ? 1 : normalCdf(b) - normalCdf(a);
      const logWeight = weights[j] === 1 ? logObservationWeight : Math.log(weights[j] / total);
      this.logCoef[j] = logWeight - Math.log(Math.max(mass, 1e-300));
      cum += weights[j] / total;
      this.cumWeights[j] = cum;
    }
    this.mus = mus;
    this.sigmas = sigmas;
    this.invSigmas = sigmas.map((sg) => 1 / sg);
    this.logDensityCoef = this.logCoef.map((c, j) => normalLogPdf(mus[j], mus[j], sigmas[j]) + c);
  }

  get components(): number {
    return this.mus.length;
  }

  /** One draw: a component by weight, then its truncated normal (rejection), snapped to the grid. */
  sample(prng: Prng): number {
    const u = unitFloat(prng) * this.cumWeights[this.cumWeights.length - 1];
    let j = 0;
    while (j < this.cumWeights.length - 1 && this.cumWeights[j] <= u) j++;
    let x = NaN;
    for (let tries = 0; tries < MAX_REJECTIONS; tries++) {
      const draw = this.mus[j] + this.sigmas[j] * normalDraw(prng);
      if (draw >= this.lo && draw <= this.hi) {
        x = draw;
        break;
      }
    }
    if (Number.isNaN(x)) x = this.lo + unitFloat(prng) * (this.hi - this.lo);
    return this.snap(x);
  }

  /** x moved onto the grid (stepped domains) and into [low, high]. */
  snap(x: number): number {
    const { low, high, step } = this.domain;
    if (step === null) return Math.min(high, Math.max(low, x));
    const k = Math.round((x - low) / step);
    return Math.min(high, Math.max(low, low + k * step));
  }

  /**
   * log density (continuous) or log probability of x's grid cell (stepped). A cell's mass is the CDF
   * difference, or density x step where the component is wide (sigma >= 2 step: error < 1 %, and no erf).
   */
  logPdf(x: number): number {
    const n = this.mus.length;
    const step = this.domain.step;
    // One pass relative to a running maximum (no allocation: this runs candidates x components times).
    let max = -Infinity;
    let sum = 0;
    const logStep = step === null ? 0 : Math.log(step);
    for (let j = 0; j < n; j++) {
      const sigma = this.sigmas[j];
      let t: number;
      if (step === null || sigma >= 2 * step) {
        const z = (x - this.mus[j]) * this.invSigmas[j];
        t = this.logDensityCoef[j] - 0.5 * z * z + logStep;
      } else {
        const mu = this.mus[j];
        const p = normalCdf((x + step / 2 - mu) / sigma) - normalCdf((x - step / 2 - mu) / sigma);
        t = this.logCoef[j] + Math.log(Math.max(p, 1e-300));
      }
      if (t === -Infinity) continue;
      if (t <= max) {
        sum += Math.exp(t - max);
      } else {
        sum = sum * Math.exp(max - t) + 1;
        max = t;
      }
    }
    return max === -Infinity ? -Infinity : max + Math.log(sum);
  }
}

export class CategoricalParzen {
  private readonly weights: Float64Array;
  private readonly total: number;

  constructor(observations: readonly number[], choices: number, priorWeight = 1) {
    this.weights = new Float64Array(choices).fill(priorWeight / choices);
    for (const i of observations) this.weights[i] += 1;
    this.total = this.weights.reduce((a, b) => a + b, 0);
  }

  sample(prng: Prng): number {
    let u = unitFloat(prng) * this.total;
    for (let i = 0; i < this.weights.length; i++) {
      u -= this.weights[i];
      if (u < 0) return i;
    }
    return this.weights.length - 1;
  }

  logPmf(i: number): number {
    return Math.log(this.weights[i] / this.total);
  }
}
