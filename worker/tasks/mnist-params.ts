/**
 * The parameter catalogue of the `multi-digit-mnist` task: what a search file may vary and the defaults
 * of what it does not, and the trainer config a trial's checked params give. The architecture and
 * optimizer names are passed in (builtin-tasks.ts takes them from the worker's registries) so this file
 * loads no model code.
 */
import { SPLIT_COUNTS } from '../data/constants.js';
import type { ResolvedParams, TaskParams } from '../../shared/task-params.js';
import type { OptimizerName, TrainConfig } from '../training/config.js';

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

export function mnistTaskParams(names: { architectures: readonly string[]; optimizers: readonly string[] }) {
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
  } satisfies TaskParams;
}

/** A trial's params checked by `resolveParams` against `mnistTaskParams`. */
export type MnistParams = ResolvedParams<ReturnType<typeof mnistTaskParams>['params'], typeof MNIST_DEFAULTS>;

/**
 * The trainer config of checked params: names mapped, nothing checked again. `optimizer` is one of the
 * names `mnistTaskParams` was given, which are the trainer's OPTIMIZER_NAMES (mnist-task.ts).
 */
export function mnistTrainConfig(params: MnistParams, seed: number): TrainConfig {
  return {
    arch: params.arch,
    optimizer: params.optimizer as OptimizerName,
    learningRate: params.learning_rate,
    batchSize: params.batch_size,
    epochs: params.epochs,
    seed,
    ...(params.train_size === undefined ? {} : { trainSize: params.train_size }),
    ...(params.val_size === undefined ? {} : { valSize: params.val_size }),
  };
}
