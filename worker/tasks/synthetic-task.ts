/**
 * `synthetic`: no training. Sleeps `sleep_ms` per epoch and reports `val_acc` as a deterministic, noisy
 * function of the parameters that improves with epochs. For tests, benchmarks and dashboard demos.
 *
 * Every parameter adds a score in [0, 1]: a number v scores 0.5 + 0.5 cos(2.1 z + 2π h(name)) with
 * z = log10(v) for v > 0 (else v), which is smooth in v; a string or boolean scores h(name=value).
 * With Q the mean score, val_acc(e) = (0.5 + 0.45 Q)(1 - exp(-r e)) + noise, r = 0.4 + 0.6 h(params),
 * noise uniform in ±0.01 from h(seed, epoch). h is FNV-1a onto [0, 1).
 * Reserved params: `epochs` (default 5), `sleep_ms` (default 0), `fail_at_epoch` (throws there).
 */
import type { ParamValue, TrialParams } from '../../shared/protocol/index.js';
import { resolveParams } from '../../shared/task-params.js';
import { SYNTHETIC_TASK } from '../../shared/task-names.js';
import { SYNTHETIC_PARAMS } from './synthetic-params.js';
import type { Task } from './task.js';
import { unitHash } from '../../shared/prng.js';

/** The parameters the task reads itself; the others make up the score. */
const RESERVED = new Set(Object.keys(SYNTHETIC_PARAMS.params));

/** A value as text for hashing: scalars as String() does, lists / mappings / null as JSON. */
function textOf(value: ParamValue): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function score(name: string, value: ParamValue): number {
  if (typeof value === 'number') {
    const z = value > 0 ? Math.log10(value) : value;
    return 0.5 + 0.5 * Math.cos(2.1 * z + 2 * Math.PI * unitHash(name));
  }
  return unitHash(`${name}=${textOf(value)}`);
}

/** The noiseless curve's ceiling for these params, in [0.5, 0.95]. */
export function syntheticCeiling(params: TrialParams): number {
  const names = Object.keys(params)
    .filter((n) => !RESERVED.has(n))
    .sort();
  const q = names.length === 0 ? 1 : names.reduce((s, n) => s + score(n, params[n]), 0) / names.length;
  return 0.5 + 0.45 * q;
}

/** val_acc after `epoch` epochs (1-based) for these params and seed. */
export function syntheticValAcc(params: TrialParams, seed: number, epoch: number): number {
  const names = Object.keys(params)
    .filter((n) => !RESERVED.has(n))
    .sort();
  const key = names.map((n) => `${n}=${textOf(params[n])}`).join('&');
  const rate = 0.4 + 0.6 * unitHash(key);
  const noise = (unitHash(`${seed}:${epoch}:${key}`) - 0.5) * 0.02;
  return Math.min(1, Math.max(0, syntheticCeiling(params) * (1 - Math.exp(-rate * epoch)) + noise));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export const syntheticTask: Task = {
  name: SYNTHETIC_TASK,
  params: SYNTHETIC_PARAMS,
  description: 'no training: sleeps sleep_ms per epoch, val_acc a deterministic noisy function of the params',
  async run(spec, ctx) {
    const reserved = resolveParams(spec.params, SYNTHETIC_PARAMS);
    const { epochs, sleep_ms: sleepMs } = reserved;
    const failAt = reserved.fail_at_epoch ?? 0;
    let metrics: Record<string, number> = {};
    let done = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const started = performance.now();
      await sleep(sleepMs, ctx.signal);
      if (epoch === failAt) throw new Error(`synthetic failure at epoch ${epoch} (fail_at_epoch)`);
      const valAcc = syntheticValAcc(spec.params, spec.seed, epoch);
      metrics = {
        epoch,
        val_acc: valAcc,
        val_loss: -Math.log(Math.max(valAcc, 1e-3)),
        epoch_seconds: (performance.now() - started) / 1000,
      };
      done = epoch;
      const decision = await ctx.reportEpoch(epoch, metrics);
      if (decision === 'stop' && epoch < epochs) return { metrics, epochs: done, stopped: true };
    }
    return { metrics, epochs: done, stopped: false };
  },
};
