/**
 * What one training run is asked to do. A config is built from checked input and not checked again: a
 * trial's params by the task's rules (worker/tasks/mnist-params.ts `mnistTrainConfig`), `hpo train`'s
 * flags by their option parsers (cli/commands/train.ts, from the same rules).
 */

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
