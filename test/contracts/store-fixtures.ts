/** What the store contract suites share: the fixture each test gets, and small valid records. */
import type { Goal, SearchSpace } from '../../orchestrator/search-space/types.js';
import type { NewTrial, Store, StoreReader, TrialResult } from '../../orchestrator/store/index.js';

export interface StoreFixture {
  store: Store;
  /**
   * Opens the same store again, read-only, as another process would (a viewer of a file a search
   * writes); absent for a store nothing else can open (a private in-memory database).
   */
  openReader?(): Promise<StoreReader>;
  cleanup(): Promise<void>;
}

/** A small valid search space; `goal` and `metric` pick the objective. */
export function makeSpace(
  goal: Goal = 'maximize',
  metric = goal === 'maximize' ? 'val_acc' : 'val_loss',
): SearchSpace {
  return {
    method: 'random',
    metric: { name: metric, goal },
    parameters: {
      learning_rate: { kind: 'log_uniform_values', min: 1e-4, max: 1e-1 },
      optimizer: { kind: 'categorical', values: ['adam', 'sgd'] },
      dropout: { kind: 'constant', value: 0.25 },
    },
    run_cap: 20,
    task: 'multi-digit-mnist',
    seed: 7,
    data: { seed: 1 },
    description: 'contract test space',
  };
}

export function makeTrial(index: number, id = `t${index}`): NewTrial {
  return {
    trial_id: id,
    index,
    params: { learning_rate: 0.001 * (index + 1), optimizer: 'adam', bn: true },
    seed: 1000 + index,
  };
}

export function makeResult(
  metrics: Record<string, number>,
  overrides: Partial<TrialResult> = {},
): TrialResult {
  return {
    attempt: 1,
    state: 'completed',
    metrics,
    epochs: 3,
    worker: 'w1',
    backend: 'cpu',
    started_at: 1_000,
    ended_at: 2_000,
    ...overrides,
  };
}
