/**
 * For bench:search: TPE against random search on a conditional space (hpo's `branches`: each optimizer
 * has its own learning-rate range and its own second parameter), on the synthetic task through the
 * product path, at an equal budget of trials. TPE builds per-branch estimators (a branch's parameters are
 * modelled only from the trials in which that branch was active).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SearchSpace } from '../../orchestrator/search-space/types.js';
import type { TrialExecutor } from '../../shared/protocol/executor.js';
import { runVariant, variantSpace } from './search-compare.js';

export const CONDITIONAL_EPOCHS = 9;

export function conditionalSpace(trials: number): SearchSpace {
  return {
    method: 'random',
    metric: { name: 'val_acc', goal: 'maximize' },
    parameters: {
      optimizer: {
        kind: 'categorical',
        values: ['sgd', 'adam', 'rmsprop'],
        branches: [
          {
            lr: { kind: 'log_uniform_values', min: 1e-3, max: 1 },
            momentum: { kind: 'uniform', min: 0, max: 0.99 },
          },
          {
            lr: { kind: 'log_uniform_values', min: 1e-5, max: 1e-1 },
            beta1: { kind: 'uniform', min: 0.8, max: 0.999 },
          },
          {
            lr: { kind: 'log_uniform_values', min: 1e-5, max: 1e-1 },
            rho: { kind: 'uniform', min: 0.8, max: 0.99 },
          },
        ],
      },
      width: { kind: 'int_uniform', min: 8, max: 512 },
      act: { kind: 'categorical', values: ['relu', 'tanh', 'gelu', 'elu'] },
      epochs: { kind: 'constant', value: CONDITIONAL_EPOCHS },
      sleep_ms: { kind: 'constant', value: 0 },
    },
    run_cap: trials,
    task: 'synthetic',
    seed: 1,
    data: { seed: 1 },
  };
}

export interface ConditionalReport {
  task: 'synthetic-conditional';
  seeds: number[];
  trials: number;
  epochs: number;
  random_best: number[];
  tpe_best: number[];
  random_mean: number;
  tpe_mean: number;
  /** TPE's final best minus random's, mean over seeds, at equal budget. */
  tpe_minus_random: number;
  /** Seeds on which TPE's final best beat random's. */
  tpe_wins: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function compareConditional(options: {
  trials: number;
  seeds: number[];
  executor: TrialExecutor;
  log: (line: string) => void;
}): Promise<ConditionalReport> {
  const { trials, seeds, executor } = options;
  const base = conditionalSpace(trials);
  const budget = trials * CONDITIONAL_EPOCHS;
  const dir = mkdtempSync(join(tmpdir(), 'hpo-bench-conditional-'));
  const best = { random: [] as number[], tpe: [] as number[] };
  const asha = { type: 'hyperband' as const, min_iter: 1 };
  try {
    for (const seed of seeds) {
      for (const variant of ['random', 'tpe'] as const) {
        const space = variantSpace(base, variant, asha, seed);
        const run = await runVariant({ dir, space, variant, seed, budget, executor });
        const final = run.curve.filter((p) => p.budget <= budget).pop()?.best ?? NaN;
        best[variant].push(final);
        options.log(
          `synthetic-conditional seed ${seed} ${variant}: ${run.trials} trials, best ${final.toFixed(4)}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    task: 'synthetic-conditional',
    seeds,
    trials,
    epochs: CONDITIONAL_EPOCHS,
    random_best: best.random,
    tpe_best: best.tpe,
    random_mean: mean(best.random),
    tpe_mean: mean(best.tpe),
    tpe_minus_random: mean(best.tpe) - mean(best.random),
    tpe_wins: best.tpe.filter((v, i) => v > best.random[i]).length,
  };
}

export function renderConditional(r: ConditionalReport): string {
  const sign = r.tpe_minus_random >= 0 ? '+' : '';
  return [
    `synthetic-conditional (optimizer branches): ${r.seeds.length} seed(s), ${r.trials} trials x ${r.epochs} epochs each`,
    `  random ${r.random_mean.toFixed(4)}, TPE ${r.tpe_mean.toFixed(4)} (mean best val_acc)`,
    `  TPE - random at equal budget: ${sign}${r.tpe_minus_random.toFixed(4)}; TPE better on ${r.tpe_wins}/${r.seeds.length} seeds`,
  ].join('\n');
}
