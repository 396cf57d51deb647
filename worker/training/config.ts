/** What one training run is asked to do, and its validation. */
import { UsageError } from '../../shared/errors.js';
import { architectureNames, getArchitecture } from '../models/registry.js';

export const OPTIMIZER_NAMES = ['sgd', 'momentum', 'adam', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface TrainConfig {
  /** Architecture name from the model registry. */
  arch: string;
  optimizer: OptimizerName;
  learningRate: number;
  batchSize: number;
  epochs: number;
  /** Seeds weight initialisation and the batch order. */
  seed: number;
  /** Train on the first N training pairs only (the order is already shuffled); all when absent. */
  trainSize?: number;
  /** Validate on the first N validation pairs only (reduced fidelity); all when absent. */
  valSize?: number;
}

function positive(field: string, value: unknown, integer: boolean): number {
  const ok =
    typeof value === 'number' && Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value));
  if (!ok) {
    throw new UsageError(
      `${field}: expected ${integer ? 'an integer' : 'a number'} > 0, got ${JSON.stringify(value)}`,
    );
  }
  return value as number;
}

export function parseOptimizer(value: unknown, field = 'optimizer'): OptimizerName {
  if (typeof value === 'string' && (OPTIMIZER_NAMES as readonly string[]).includes(value)) {
    return value as OptimizerName;
  }
  throw new UsageError(
    `${field}: unknown optimizer ${JSON.stringify(value)}; expected one of: ${OPTIMIZER_NAMES.join(', ')}`,
  );
}

/** Checks every field and returns a clean config; errors name the field and what is allowed. */
export function validateTrainConfig(raw: Record<string, unknown>): TrainConfig {
  if (typeof raw.arch !== 'string') {
    throw new UsageError(`arch: expected one of: ${architectureNames().join(', ')}`);
  }
  getArchitecture(raw.arch);
  const seed = raw.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UsageError(`seed: expected an integer between 0 and 4294967295, got ${JSON.stringify(seed)}`);
  }
  const config: TrainConfig = {
    arch: raw.arch,
    optimizer: parseOptimizer(raw.optimizer),
    learningRate: positive('learningRate', raw.learningRate, false),
    batchSize: positive('batchSize', raw.batchSize, true),
    epochs: positive('epochs', raw.epochs, true),
    seed,
  };
  if (raw.trainSize !== undefined) config.trainSize = positive('trainSize', raw.trainSize, true);
  if (raw.valSize !== undefined) config.valSize = positive('valSize', raw.valSize, true);
  return config;
}
