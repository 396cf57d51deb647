/**
 * Trains one configuration on the two-digit data set with a hand-written loop (no model.fit), so the
 * caller sees every epoch, can stop after any epoch, and can abort between batches.
 *
 * Reproducibility: weights come from seeded initializers and the batch order from the hpo PRNG seeded
 * with the config seed, so the same seed on the same backend gives the same numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { Prng } from '../../shared/prng.js';
import { subsetSplit } from '../data/dataset.js';
import type { Split, TwoDigitDataset } from '../data/types.js';
import { TrainingAbortedError, UsageError } from '../../shared/errors.js';
import type { Decision } from '../../shared/protocol/index.js';
import { disposeModel } from '../models/dispose.js';
import { getArchitecture } from '../models/registry.js';
import { BatchBuffers, disposeBatch, identityOrder, makeBatch } from './batches.js';
import type { TrainConfig } from './config.js';
import { evaluate, yieldToEventLoop } from './evaluate.js';
import type { EpochMetrics, TestMetrics } from './metrics.js';
import { createOptimizer } from './optimizer.js';
import { trainStep, zeroTotals } from './train-step.js';

/** PRNG stream of the batch order (streams keep it independent of the data generator's). */
const SHUFFLE_STREAM = 0x5eed;

export interface TrainOptions {
  /**
   * Called after each epoch; answering 'stop' (the protocol's Decision) ends training (the test split is
   * still evaluated). `info.images`: training images processed in the epoch (for throughput metrics).
   */
  onEpoch?: (metrics: EpochMetrics, info: { images: number }) => Decision | void | Promise<Decision | void>;
  /** Aborting ends training between two batches with a TrainingAbortedError. */
  signal?: AbortSignal;
  /** Called once training and the test pass are done, before the model is freed (e.g. to save it). */
  onTrained?: (model: tf.LayersModel, result: TrainResult) => Promise<void>;
}

export interface TrainResult {
  config: TrainConfig;
  /** tfjs backend the run used (tf.getBackend()). */
  backend: string;
  data_sha256: string;
  params: number;
  epochs: EpochMetrics[];
  /** True when onEpoch said stop before the last epoch. */
  stopped_early: boolean;
  test: TestMetrics;
  seconds: number;
}

/** What every epoch of one training run works with. */
interface EpochContext {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  trainSplit: Split;
  valSplit: Split;
  prng: Prng;
  /** The batch order, shuffled in place each epoch. */
  order: Int32Array;
  buffers: BatchBuffers;
  batchSize: number;
  signal?: AbortSignal;
}

/**
 * Trains `config` (built from checked input, see config.ts); only what depends on the data set is
 * checked here (train and validation sizes against the splits).
 */
export async function train(
  config: TrainConfig,
  dataset: TwoDigitDataset,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const started = performance.now();
  checkSplitSizes(config, dataset);
  const trainSplit = subsetSplit(dataset.train, config.trainSize ?? dataset.train.count);
  const ctx: EpochContext = {
    trainSplit,
    valSplit: subsetSplit(dataset.val, config.valSize ?? dataset.val.count),
    prng: new Prng(config.seed, SHUFFLE_STREAM),
    model: getArchitecture(config.arch).build({ seed: config.seed }),
    optimizer: createOptimizer(config.optimizer, config.learningRate),
    order: identityOrder(trainSplit.count),
    buffers: new BatchBuffers(Math.min(config.batchSize, trainSplit.count)),
    batchSize: config.batchSize,
    signal: options.signal,
  };
  const epochs: EpochMetrics[] = [];
  let stoppedEarly = false;

  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const metrics = await runEpoch(ctx, epoch);
      epochs.push(metrics);
      const decision = await options.onEpoch?.(metrics, { images: trainSplit.count });
      if (decision === 'stop' && epoch < config.epochs) {
        stoppedEarly = true;
        break;
      }
    }
    // The test split is only reported, never used to choose or stop anything.
    const test = await evaluate(ctx.model, dataset.test);
    const result: TrainResult = {
      config: { ...config },
      backend: tf.getBackend(),
      data_sha256: dataset.sha256,
      params: ctx.model.countParams(),
      epochs,
      stopped_early: stoppedEarly,
      test: {
        test_loss: test.loss,
        test_acc_top: test.accTop,
        test_acc_bottom: test.accBottom,
        test_acc: (test.accTop + test.accBottom) / 2,
        test_acc_both: test.accBoth,
      },
      seconds: (performance.now() - started) / 1000,
    };
    await options.onTrained?.(ctx.model, result);
    return result;
  } finally {
    ctx.optimizer.dispose();
    disposeModel(ctx.model);
  }
}

/** The train and validation sizes asked for must fit the data set's splits. */
function checkSplitSizes(config: TrainConfig, dataset: TwoDigitDataset): void {
  if (config.trainSize !== undefined && config.trainSize > dataset.train.count) {
    throw new UsageError(
      `trainSize: expected at most ${dataset.train.count} (the training split's size), got ${config.trainSize}`,
    );
  }
  if (config.valSize !== undefined && config.valSize > dataset.val.count) {
    throw new UsageError(
      `valSize: expected at most ${dataset.val.count} (the validation split's size), got ${config.valSize}`,
    );
  }
}

/** One epoch: a pass over the shuffled training split, then the validation split. */
async function runEpoch(ctx: EpochContext, epoch: number): Promise<EpochMetrics> {
  const epochStart = performance.now();
  const [lossSum, rightTop, rightBottom] = await trainPass(ctx, epoch);
  const trainSeconds = (performance.now() - epochStart) / 1000;
  const val = await evaluate(ctx.model, ctx.valSplit);
  const n = ctx.trainSplit.count;
  return {
    epoch,
    train_loss: lossSum / n,
    train_acc_top: rightTop / n,
    train_acc_bottom: rightBottom / n,
    val_loss: val.loss,
    val_acc_top: val.accTop,
    val_acc_bottom: val.accBottom,
    val_acc: (val.accTop + val.accBottom) / 2,
    val_acc_both: val.accBoth,
    epoch_seconds: (performance.now() - epochStart) / 1000,
    images_per_s: n / trainSeconds,
    num_tensors: tf.memory().numTensors,
  };
}

/**
 * The training pass of one epoch, a batch at a time in the PRNG's order; aborting ends it between two
 * batches. Gives the sums of the loss and of the right answers (top, bottom digit).
 */
async function trainPass(ctx: EpochContext, epoch: number): Promise<tf.TypedArray> {
  const { trainSplit, order, batchSize, signal } = ctx;
  ctx.prng.shuffle(order);
  let totals = zeroTotals();
  for (let start = 0; start < trainSplit.count; start += batchSize) {
    if (signal?.aborted) {
      totals.dispose();
      throw new TrainingAbortedError(`training aborted in epoch ${epoch}`, { cause: signal.reason });
    }
    const batch = makeBatch(
      trainSplit,
      order,
      start,
      Math.min(trainSplit.count, start + batchSize),
      ctx.buffers,
    );
    totals = trainStep(ctx.model, ctx.optimizer, batch, totals);
    disposeBatch(batch);
    await yieldToEventLoop();
  }
  const sums = await totals.data();
  totals.dispose();
  return sums;
}
