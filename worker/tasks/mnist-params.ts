/**
 * The parameter catalogue of the `multi-digit-mnist` task: what a search file may vary and the defaults
 * of what it does not. The architecture and optimizer names are passed in (builtin-tasks.ts takes them
 * from the worker's registries) so this file loads no model code.
 */
import { SPLIT_COUNTS } from '../data/constants.js';
import type { TaskParams } from '../../shared/task-params.js';

export const MNIST_TASK = 'multi-digit-mnist';

/** train_size may not exceed the generated training split. */
export const MNIST_MAX_TRAIN_SIZE = SPLIT_COUNTS.train;

/** Used for every parameter a file does not give (train_size absent = the whole training split). */
export const MNIST_DEFAULTS = {
  arch: 'mlp',
  optimizer: 'adam',
  learning_rate: 0.001,
  batch_size: 64,
  epochs: 10,
} as const;

/**
 * The per-epoch metrics the trainer reports (worker/training/metrics.ts EpochMetrics), i.e. what
 * `metric.name` may name.
 */
export const MNIST_METRICS: readonly string[] = [
  'val_acc',
  'val_loss',
  'val_acc_top',
  'val_acc_bottom',
  'val_acc_both',
  'train_loss',
  'train_acc_top',
  'train_acc_bottom',
  'epoch_seconds',
  'images_per_s',
];

export function mnistTaskParams(names: {
  architectures: readonly string[];
  optimizers: readonly string[];
}): TaskParams {
  return {
    params: {
      arch: { type: 'choice', choices: names.architectures },
      optimizer: { type: 'choice', choices: names.optimizers },
      learning_rate: { type: 'number', gt: 0 },
      batch_size: { type: 'integer', gt: 0 },
      epochs: { type: 'integer', gt: 0 },
      train_size: { type: 'integer', gt: 0, le: MNIST_MAX_TRAIN_SIZE },
      val_size: { type: 'integer', gt: 0, le: SPLIT_COUNTS.val },
    },
    open: false,
    defaults: MNIST_DEFAULTS,
    metrics: MNIST_METRICS,
  };
}
