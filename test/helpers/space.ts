import type { ParamSpec, SearchSpace } from '../../orchestrator/search-space/index.js';

/** A parsed synthetic-task search space for strategy tests: random, val_acc maximized, seed 1 (override with `extra`). */
export function syntheticSpace(
  parameters: Record<string, ParamSpec>,
  extra: Partial<SearchSpace> = {},
): SearchSpace {
  return {
    method: 'random',
    metric: { name: 'val_acc', goal: 'maximize' },
    parameters,
    task: 'synthetic',
    seed: 1,
    data: { seed: 1 },
    ...extra,
  };
}
