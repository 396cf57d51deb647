/** Turns rows of a uint8 split into input and label tensors. */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_BYTES, IMAGE_HEIGHT, IMAGE_WIDTH, NUM_CLASSES } from '../data/constants.js';
import type { Split } from '../data/types.js';

export interface Batch {
  /** [b, 42, 28, 1], pixels scaled to [0, 1]. */
  x: tf.Tensor4D;
  /** One-hot [b, 10] labels of the top and bottom digits. */
  top: tf.Tensor2D;
  bottom: tf.Tensor2D;
  size: number;
}

/** Batch of the examples `indices[start..end)` of `split`. The caller disposes it (disposeBatch). */
export function makeBatch(split: Split, indices: ArrayLike<number>, start: number, end: number): Batch {
  const size = end - start;
  const pixels = new Float32Array(size * IMAGE_BYTES);
  const top = new Int32Array(size);
  const bottom = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const k = indices[start + i];
    const src = split.images.subarray(k * IMAGE_BYTES, (k + 1) * IMAGE_BYTES);
    const offset = i * IMAGE_BYTES;
    for (let p = 0; p < IMAGE_BYTES; p++) pixels[offset + p] = src[p] / 255;
    top[i] = split.top[k];
    bottom[i] = split.bottom[k];
  }
  return tf.tidy(() => ({
    x: tf.tensor4d(pixels, [size, IMAGE_HEIGHT, IMAGE_WIDTH, 1]),
    top: tf.oneHot(tf.tensor1d(top, 'int32'), NUM_CLASSES) as tf.Tensor2D,
    bottom: tf.oneHot(tf.tensor1d(bottom, 'int32'), NUM_CLASSES) as tf.Tensor2D,
    size,
  }));
}

export function disposeBatch(batch: Batch): void {
  tf.dispose([batch.x, batch.top, batch.bottom]);
}

/** 0..n-1. */
export function identityOrder(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}
