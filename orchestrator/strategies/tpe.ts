/**
 * `method: bayes`: the Tree-structured Parzen Estimator (Bergstra et al., NeurIPS 2011), univariate as
 * Optuna's default TPESampler:
 *
 * 1. Start-up: until `startupTrials` trials have finished with a value, proposal k is exactly the random
 *    strategy's proposal k (same seed, same generator).
 * 2. Then the finished trials are ranked, best first: completed ones by the objective, then stopped ones
 *    by epochs reached (further is better), then by the objective (Optuna's order for pruned trials).
 *    The best n_below = min(ceil(0.1 n), 25) (at least 1) are "good"; the rest, failed trials and every
 *    trial still running ("constant liar": pending trials count as bad, so concurrent proposals spread
 *    out instead of waiting) are "bad".
 * 3. Per parameter, a Parzen estimator l(x) over the good values and g(x) over the bad (parzen.ts);
 *    `candidates` draws from l, and the one with the largest log l(x) - log g(x) is proposed.
 *
 * Conditional spaces (branches): a branch's parameters are drawn only when their categorical took the
 * branch's value, from estimators over the trials in which that branch was active (per-branch
 * estimators, as Optuna's grouped TPE builds them per group of parameters that occur together).
 *
 * Proposal k draws from `new Prng(seed XOR TPE_SALT, k)`, so a search is deterministic given the seed,
 * the proposals so far and the finished results. For finite spaces a configuration already seen is not
 * proposed again: TPE's pick is replaced by the random strategy's (which avoids seen ones); null once all
 * are seen, and at run_cap.
 */
import type { ParamValue, TrialParams } from '../../shared/protocol/index.js';
import { Prng } from '../../shared/prng.js';
import type { ParamSpec, ParamSpecs, SearchSpace } from '../search-space/types.js';
import {
  allParamNames,
  choiceIndex,
  containsValue,
  gridSize,
  qRange,
  qValue,
} from '../search-space/values.js';
import { configKey, projectParams } from './key.js';
import { CategoricalParzen, type NumericDomain, NumericParzen } from './parzen.js';
import { RandomStrategy } from './random.js';
import type { FinishedProposal, Strategy, StrategyState } from './strategy.js';

/** XORed into the space's seed for TPE's own draws (distinct from the random strategy's salt). */
export const TPE_SALT = 0x7be5_a11d;

export interface TpeOptions {
  /** Finished trials (with a value) before TPE takes over from random proposals. Default 10. */
  startupTrials?: number;
  /** Draws from l(x) per parameter per proposal. Default 24. */
  candidates?: number;
  /** Weight of each estimator's prior component. Default 1. */
  priorWeight?: number;
  /** How many of n ranked trials are "good". Default min(ceil(0.1 n), 25). */
  gamma?: (n: number) => number;
}

export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

/** How one parameter maps to the estimator's space and back. */
interface Codec {
  kind: 'numeric' | 'categorical';
  domain?: NumericDomain;
  choices?: number;
  /** A value in the space → its point in the estimator's space (undefined: not in the space). */
  encode(v: ParamValue | undefined): number | undefined;
  decode(x: number): ParamValue;
}

function codecFor(spec: Exclude<ParamSpec, { kind: 'constant' }>): Codec {
  const inside = (v: ParamValue | undefined): v is number => typeof v === 'number' && containsValue(spec, v);
  switch (spec.kind) {
    case 'categorical':
      return {
        kind: 'categorical',
        choices: spec.values.length,
        encode: (v) => {
          const i = choiceIndex(spec, v);
          return i < 0 ? undefined : i;
        },
        decode: (i) => spec.values[i],
      };
    case 'uniform':
      return {
        kind: 'numeric',
        domain: { low: spec.min, high: spec.max, step: null },
        encode: (v) => (inside(v) ? v : undefined),
        decode: (x) => x,
      };
    case 'log_uniform_values':
      return {
        kind: 'numeric',
        domain: { low: Math.log(spec.min), high: Math.log(spec.max), step: null },
        encode: (v) => (inside(v) ? Math.log(v) : undefined),
        decode: (x) => Math.min(spec.max, Math.max(spec.min, Math.exp(x))),
      };
    case 'int_uniform':
      return {
        kind: 'numeric',
        domain: { low: spec.min, high: spec.max, step: 1 },
        encode: (v) => (inside(v) ? v : undefined),
        decode: (x) => x,
      };
    case 'q_uniform': {
      // In units of q: the grid k = kmin..kmax, value k*q.
      const { kmin, kmax } = qRange(spec.min, spec.max, spec.q);
      return {
        kind: 'numeric',
        domain: { low: kmin, high: kmax, step: 1 },
        encode: (v) => (inside(v) ? Math.round(v / spec.q) : undefined),
        decode: (k) => qValue(k, spec.q),
      };
    }
    case 'q_log_uniform_values': {
      const { kmin, kmax } = qRange(spec.min, spec.max, spec.q);
      const lo = Math.log(qValue(kmin, spec.q));
      const hi = Math.log(qValue(kmax, spec.q));
      return {
        kind: 'numeric',
        domain: { low: lo, high: hi, step: null },
        encode: (v) => (inside(v) ? Math.log(v) : undefined),
        decode: (x) => qValue(Math.min(kmax, Math.max(kmin, Math.round(Math.exp(x) / spec.q))), spec.q),
      };
    }
    case 'normal':
    case 'q_normal':
    case 'log_normal':
    case 'q_log_normal':
      return normalCodec(spec);
  }
}

/** The normal family is unbounded: the estimators live on mu +- NORMAL_SPAN sigma (of the value, or of its log). */
function normalCodec(spec: Extract<ParamSpec, { mu: number }>): Codec {
  const log = spec.kind === 'log_normal' || spec.kind === 'q_log_normal';
  const q = spec.kind === 'q_normal' || spec.kind === 'q_log_normal' ? spec.q : null;
  const low = spec.mu - NORMAL_SPAN * spec.sigma;
  const high = spec.mu + NORMAL_SPAN * spec.sigma;
  const clip = (x: number) => Math.min(high, Math.max(low, x));
  return {
    kind: 'numeric',
    domain: { low, high, step: null },
    encode: (v) => {
      if (typeof v !== 'number' || !containsValue(spec, v)) return undefined;
      if (log && v <= 0) return low;
      return clip(log ? Math.log(v) : v);
    },
    decode: (x) => {
      const v = log ? Math.exp(x) : x;
      return q === null ? v : qValue(Math.round(v / q), q);
    },
  };
}

/** Width of the estimators' range for the normal family, in sigmas either side of mu. */
const NORMAL_SPAN = 4;

export class TpeStrategy implements Strategy {
  readonly startupTrials: number;
  readonly candidates: number;
  private readonly priorWeight: number;
  private readonly gamma: (n: number) => number;
  private readonly random: RandomStrategy;
  private readonly names: string[];
  private readonly codecs = new Map<ParamSpec, Codec>();
  private readonly seed: number;
  private readonly finite: boolean;
  /** configKey per params object: the runner hands the same objects on every call. */
  private readonly keys = new WeakMap<TrialParams, string>();

  constructor(
    private readonly space: SearchSpace,
    options: TpeOptions = {},
  ) {
    this.startupTrials = options.startupTrials ?? 10;
    this.candidates = options.candidates ?? 24;
    this.priorWeight = options.priorWeight ?? 1;
    this.gamma = options.gamma ?? defaultGamma;
    this.random = new RandomStrategy(space);
    this.names = allParamNames(space);
    this.seed = (space.seed ^ TPE_SALT) >>> 0;
    this.finite = gridSize(space) !== null;
  }

  next(state: StrategyState): TrialParams | null {
    if (this.space.run_cap !== undefined && state.proposed >= this.space.run_cap) return null;
    const valued = state.finished.filter((f) => f.value !== null && f.state !== 'failed');
    if (valued.length < this.startupTrials) return this.random.next(state);

    const { good, bad } = this.split(state, valued);
    const prng = new Prng(this.seed, state.proposed);
    const params: TrialParams = {};
    this.sampleScope(this.space.parameters, good, bad, prng, params);
    if (this.finite) {
      const seen = new Set(state.seen.map((p) => this.keyOf(p)));
      if (seen.has(configKey(params))) return this.random.next(state);
    }
    return params;
  }

  /**
   * Draws a scope's parameters in file order. A categorical's branch is drawn right after it, from the
   * trials whose value of the categorical is the one drawn (those in which the branch was active).
   */
  private sampleScope(
    specs: ParamSpecs,
    good: readonly TrialParams[],
    bad: readonly TrialParams[],
    prng: Prng,
    out: TrialParams,
  ): void {
    for (const [name, spec] of Object.entries(specs)) {
      if (spec.kind === 'constant') {
        out[name] = spec.value;
        continue;
      }
      let codec = this.codecs.get(spec);
      if (!codec) {
        codec = codecFor(spec);
        this.codecs.set(spec, codec);
      }
      const value = this.sampleParam(name, codec, good, bad, prng);
      out[name] = value;
      if (spec.kind === 'categorical' && spec.branches) {
        const i = choiceIndex(spec, value);
        const branch = spec.branches[i];
        if (!branch) continue;
        const active = (p: TrialParams) => choiceIndex(spec, p[name]) === i;
        this.sampleScope(branch, good.filter(active), bad.filter(active), prng, out);
      }
    }
  }

  private keyOf(params: TrialParams): string {
    let key = this.keys.get(params);
    if (key === undefined) {
      key = configKey(projectParams(params, this.names));
      this.keys.set(params, key);
    }
    return key;
  }

  /** Good: the best gamma(n) ranked trials; bad: the rest, failed ones and the ones still running. */
  private split(
    state: StrategyState,
    valued: readonly FinishedProposal[],
  ): { good: TrialParams[]; bad: TrialParams[] } {
    const sign = this.space.metric.goal === 'maximize' ? 1 : -1;
    const ranked = [...valued].sort((a, b) => {
      const sa = a.state === 'stopped' ? 1 : 0;
      const sb = b.state === 'stopped' ? 1 : 0;
      if (sa !== sb) return sa - sb;
      if (sa === 1 && (a.epochs ?? 0) !== (b.epochs ?? 0)) return (b.epochs ?? 0) - (a.epochs ?? 0);
      return sign * ((b.value as number) - (a.value as number));
    });
    const nGood = Math.max(1, Math.min(ranked.length, this.gamma(ranked.length)));
    const good = ranked.slice(0, nGood).map((f) => f.params);
    const bad = ranked.slice(nGood).map((f) => f.params);
    // Failed / valueless trials, and pending ones: seen minus finished, as multisets of keys.
    const finishedKeys = new Map<string, number>();
    for (const f of state.finished) {
      const key = this.keyOf(f.params);
      finishedKeys.set(key, (finishedKeys.get(key) ?? 0) + 1);
      if (f.value === null || f.state === 'failed') bad.push(f.params);
    }
    for (const p of state.seen) {
      const key = this.keyOf(p);
      const left = finishedKeys.get(key) ?? 0;
      if (left > 0) finishedKeys.set(key, left - 1);
      else bad.push(p);
    }
    return { good, bad };
  }

  private sampleParam(
    name: string,
    codec: Codec,
    good: readonly TrialParams[],
    bad: readonly TrialParams[],
    prng: Prng,
  ): ParamValue {
    const points = (list: readonly TrialParams[]) =>
      list.map((p) => codec.encode(p[name])).filter((x): x is number => x !== undefined);
    const [l, g] =
      codec.kind === 'categorical'
        ? [
            new CategoricalParzen(points(good), codec.choices!, this.priorWeight),
            new CategoricalParzen(points(bad), codec.choices!, this.priorWeight),
          ]
        : [
            new NumericParzen(points(good), codec.domain!, this.priorWeight),
            new NumericParzen(points(bad), codec.domain!, this.priorWeight),
          ];
    let best = NaN;
    let bestScore = -Infinity;
    for (let c = 0; c < this.candidates; c++) {
      const x = l.sample(prng);
      const score =
        l instanceof CategoricalParzen
          ? l.logPmf(x) - (g as CategoricalParzen).logPmf(x)
          : l.logPdf(x) - (g as NumericParzen).logPdf(x);
      if (score > bestScore || Number.isNaN(best)) {
        best = x;
        bestScore = score;
      }
    }
    return codec.decode(best);
  }
}
