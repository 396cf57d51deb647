/**
 * The benchmarks' search space, built in code: random search over the `synthetic` task with one
 * continuous parameter (so the random strategy never has to track which configurations it has seen)
 * and the reserved `epochs` / `sleep_ms` fixed, run_cap = the trials wanted.
 */
import type { TrialParams } from '../../shared/protocol/index.js';
import type { SearchSpace } from '../../orchestrator/search-space/types.js';

export interface SyntheticRun {
  trials: number;
  epochs: number;
  sleepMs: number;
  seed?: number;
}

export function syntheticSpace(run: SyntheticRun): SearchSpace {
  return {
    method: 'random',
    metric: { name: 'val_acc', goal: 'maximize' },
    parameters: {
      lr: { kind: 'log_uniform_values', min: 1e-4, max: 1e-1 },
      epochs: { kind: 'constant', value: run.epochs },
      sleep_ms: { kind: 'constant', value: run.sleepMs },
    },
    run_cap: run.trials,
    task: 'synthetic',
    seed: run.seed ?? 1,
    data: { seed: 1 },
    description: `hpo bench: ${run.trials} synthetic trials of ${run.epochs} epoch(s) x ${run.sleepMs} ms`,
  };
}

/** The same space as the YAML a user would write (stored as the experiment's source). */
export function syntheticSource(run: SyntheticRun): string {
  return [
    'method: random',
    'task: synthetic',
    `run_cap: ${run.trials}`,
    `seed: ${run.seed ?? 1}`,
    'metric: {name: val_acc, goal: maximize}',
    'parameters:',
    '  lr: {distribution: log_uniform_values, min: 0.0001, max: 0.1}',
    `  epochs: {value: ${run.epochs}}`,
    `  sleep_ms: {value: ${run.sleepMs}}`,
    '',
  ].join('\n');
}

/** Params of trial i for runs that bypass the strategy (direct transport loop, warm-up). */
export function syntheticParams(run: SyntheticRun, i: number): TrialParams {
  return { lr: 1e-4 * 1000 ** ((i % 997) / 997), epochs: run.epochs, sleep_ms: run.sleepMs };
}
