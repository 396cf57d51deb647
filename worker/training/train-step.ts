/** The trainer's inner step: one optimizer update on one batch, accumulating the epoch's statistics. */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './batches.js';
import { batchStats } from './evaluate.js';

/** Running sums of an epoch, as batchStats adds them: [loss sum, top right, bottom right, both right]. */
export function zeroTotals(): tf.Tensor1D {
  return tf.zeros([4]) as tf.Tensor1D;
}

/**
 * Minimises the mean softmax cross-entropy of the top digit plus that of the bottom digit over `batch`
 * and returns `totals` plus the batch's statistics (taken from the same forward pass). Disposes `totals`;
 * the caller still owns (and disposes) `batch`.
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  batch: Batch,
  totals: tf.Tensor1D,
): tf.Tensor1D {
  let stats: tf.Tensor1D | undefined;
  const loss = optimizer.minimize(() => {
    const [lt, lb] = model.apply(batch.x, { training: true }) as tf.Tensor[];
    stats = tf.keep(batchStats(lt, lb, batch.top, batch.bottom));
    return tf.add(
      tf.losses.softmaxCrossEntropy(batch.top, lt),
      tf.losses.softmaxCrossEntropy(batch.bottom, lb),
    ) as tf.Scalar;
  }, true);
  const next = tf.add(totals, stats!) as tf.Tensor1D;
  tf.dispose([totals, stats!, loss!]);
  return next;
}
