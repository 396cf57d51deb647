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
import type { Prng } from '../../worker/data/prng.js';
import { normalCdf, normalDraw, normalLogPdf } from './normal.js';
import { unitFloat } from './sample.js';

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
    const order = observations.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
    const minSigma = range / Math.min(100, 1 + (n + 1));
    for (let j = 0; j < n; j++) {
      const x = order[j].x;
      const left = j === 0 ? x - this.lo : x - order[j - 1].x;
      const right = j === n - 1 ? this.hi - x : order[j + 1].x - x;
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
    for (let j = 0; j <= n; j++) {
      const mass = normalCdf((this.hi - mus[j]) / sigmas[j]) - normalCdf((this.lo - mus[j]) / sigmas[j]);
      this.logCoef[j] = Math.log(weights[j] / total) - Math.log(Math.max(mass, 1e-300));
      cum += weights[j] / total;
      this.cumWeights[j] = cum;
    }
    this.mus = mus;
    this.sigmas = sigmas;
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

  /** log density (continuous) or log probability of x's grid cell (stepped). */
  logPdf(x: number): number {
    const n = this.mus.length;
    const terms = new Float64Array(n);
    let max = -Infinity;
    const step = this.domain.step;
    for (let j = 0; j < n; j++) {
      const mu = this.mus[j];
      const sigma = this.sigmas[j];
      let t: number;
      if (step === null) {
        t = this.logCoef[j] + normalLogPdf(x, mu, sigma);
      } else {
        const p = normalCdf((x + step / 2 - mu) / sigma) - normalCdf((x - step / 2 - mu) / sigma);
        t = this.logCoef[j] + Math.log(Math.max(p, 1e-300));
      }
      terms[j] = t;
      if (t > max) max = t;
    }
    if (max === -Infinity) return -Infinity;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(terms[j] - max);
    return max + Math.log(sum);
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
