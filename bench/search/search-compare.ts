/**
 * For bench:search: one search of one variant (strategy x scheduler) on one seed through the product
 * path (SearchRunner, a temp SQLite store, an InProcessTransport), stopped once `budget` epochs are spent
 * or the strategy runs out; returns its best-so-far curve. And the helpers that average curves over seeds.
 */
import { join } from 'node:path';
import { SearchRunner } from '../../orchestrator/core/index.js';
import { createScheduler } from '../../orchestrator/schedulers/index.js';
import type { EarlyTerminate, SearchSpace } from '../../orchestrator/search-space/types.js';
import { SqliteStore } from '../../orchestrator/store/index.js';
import { createStrategy } from '../../orchestrator/strategies/index.js';
import { InProcessTransport } from '../../orchestrator/transport/index.js';
import type { TrialExecutor } from '../../shared/protocol/executor.js';
import { BudgetExecutor, type CurvePoint } from './budget-executor.js';

export const VARIANTS = ['random', 'random+asha', 'tpe', 'tpe+asha'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface CompareRun {
  variant: Variant;
  seed: number;
  budget: number;
  trials: number;
  curve: CurvePoint[];
  seconds: number;
}

/** The variant's space: method random or bayes, with or without early_terminate. */
export function variantSpace(
  base: SearchSpace,
  variant: Variant,
  asha: EarlyTerminate,
  seed: number,
): SearchSpace {
  const space: SearchSpace = { ...base, seed, method: variant.startsWith('tpe') ? 'bayes' : 'random' };
  delete space.early_terminate;
  if (variant.endsWith('+asha')) space.early_terminate = asha;
  return space;
}

export async function runVariant(options: {
  dir: string;
  space: SearchSpace;
  variant: Variant;
  seed: number;
  budget: number;
  executor: TrialExecutor;
}): Promise<CompareRun> {
  const { space, variant, seed, budget } = options;
  const name = `${variant}-${seed}`;
  const store = SqliteStore.open(join(options.dir, `${name.replace('+', '_')}.db`));
  const controller = new AbortController();
  const executor = new BudgetExecutor(options.executor, space.metric, budget, () => controller.abort());
  await store.createExperiment(name, space, 'bench:search');
  const t0 = performance.now();
  try {
    await new SearchRunner({
      store,
      transport: new InProcessTransport(executor),
      strategy: createStrategy(space),
      scheduler: createScheduler(space),
      experiment: name,
      signal: controller.signal,
    }).run();
  } finally {
    await store.close();
  }
  return {
    variant,
    seed,
    budget: executor.budget,
    trials: executor.trials,
    curve: executor.curve,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Best so far at budget b (null before the first finished trial). */
export function bestAt(curve: readonly CurvePoint[], b: number): number | null {
  let best: number | null = null;
  for (const p of curve) {
    if (p.budget > b) break;
    best = p.best;
  }
  return best;
}

/** The mean over runs of best-so-far at each budget of the grid (null where a run has none yet). */
export function meanCurve(runs: readonly CompareRun[], grid: readonly number[]): (number | null)[] {
  return grid.map((b) => {
    const values = runs.map((r) => bestAt(r.curve, b));
    if (values.some((v) => v === null)) return null;
    return (values as number[]).reduce((a, c) => a + c, 0) / values.length;
  });
}

/** The first budget at which the curve's best reaches `target` (maximize), null if it never does. */
export function budgetToReach(
  curve: readonly CurvePoint[],
  target: number,
  goal: 'maximize' | 'minimize',
): number | null {
  for (const p of curve) if (goal === 'maximize' ? p.best >= target : p.best <= target) return p.budget;
  return null;
}
