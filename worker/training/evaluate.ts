import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/types.js';
import { BatchBuffers, disposeBatch, identityOrder, makeBatch } from './batches.js';
import type { EvalMetrics } from './metrics.js';

/**
 * Rows per forward pass during evaluation. The whole batch goes through the model in one pass
 * (`predictOnBatch`; `predict` would cut it into slices of 32 and concatenate the outputs).
 */
export const EVAL_BATCH = 128;

export interface EvaluateOptions {
  /** Rows per forward pass (default EVAL_BATCH); the result does not depend on it beyond float rounding of the loss. */
  batchSize?: number;
}

/**
 * Summed loss and correct counts of one batch as a [4] tensor: [loss sum, top right, bottom right, both right].
 * The loss per image is the softmax cross-entropy of the top head plus that of the bottom head.
 */
export function batchStats(
  logitsTop: tf.Tensor,
  logitsBottom: tf.Tensor,
  top: tf.Tensor,
  bottom: tf.Tensor,
): tf.Tensor1D {
  return tf.tidy(() => {
    const sum = tf.Reduction.SUM;
    const loss = tf.add(
      tf.losses.softmaxCrossEntropy(top, logitsTop, undefined, undefined, sum),
      tf.losses.softmaxCrossEntropy(bottom, logitsBottom, undefined, undefined, sum),
    );
    const rightTop = tf.equal(tf.argMax(logitsTop, -1), tf.argMax(top, -1));
    const rightBottom = tf.equal(tf.argMax(logitsBottom, -1), tf.argMax(bottom, -1));
    const both = tf.logicalAnd(rightTop, rightBottom);
    return tf.stack([
      loss,
      tf.sum(tf.cast(rightTop, 'float32')),
      tf.sum(tf.cast(rightBottom, 'float32')),
      tf.sum(tf.cast(both, 'float32')),
    ]) as tf.Tensor1D;
  });
}

/** Loss and accuracies of `model` on all of `split`, in inference mode. */
export async function evaluate(
  model: tf.LayersModel,
  split: Split,
  options: EvaluateOptions = {},
): Promise<EvalMetrics> {
  const batchSize = options.batchSize ?? EVAL_BATCH;
  const order = identityOrder(split.count);
  const buffers = new BatchBuffers(Math.min(batchSize, split.count));
  let totals = tf.zeros([4]) as tf.Tensor1D;
  for (let start = 0; start < split.count; start += batchSize) {
    const batch = makeBatch(split, order, start, Math.min(split.count, start + batchSize), buffers);
    const next = tf.tidy(() => {
      const [lt, lb] = model.predictOnBatch(batch.x) as tf.Tensor[];
      return tf.add(totals, batchStats(lt, lb, batch.top, batch.bottom)) as tf.Tensor1D;
    });
    disposeBatch(batch);
    totals.dispose();
    totals = next;
    await yieldToEventLoop();
  }
  const [loss, top, bottom, both] = await totals.data();
  totals.dispose();
  const n = split.count;
  return { loss: loss / n, accTop: top / n, accBottom: bottom / n, accBoth: both / n };
}

/** Lets timers, signals and messages through between steps of a long synchronous computation. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
