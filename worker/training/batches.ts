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

/**
 * Host arrays reused by every batch of a loop (makeBatch's `buffers`), so that a loop does not allocate
 * (and the garbage collector does not reclaim) a fresh pixel array per batch.
 */
export class BatchBuffers {
  readonly pixels: Float32Array;
  readonly top: Int32Array;
  readonly bottom: Int32Array;

  constructor(readonly capacity: number) {
    this.pixels = new Float32Array(capacity * IMAGE_BYTES);
    this.top = new Int32Array(capacity);
    this.bottom = new Int32Array(capacity);
  }
}

/**
 * Batch of the examples `indices[start..end)` of `split`. The caller disposes it (disposeBatch).
 * With `buffers` the rows are written there: a backend may keep those arrays as the tensors' memory (the
 * cpu backend does not copy), so the batch must be disposed before the next makeBatch into the same buffers.
 */
export function makeBatch(
  split: Split,
  indices: ArrayLike<number>,
  start: number,
  end: number,
  buffers?: BatchBuffers,
): Batch {
  const size = end - start;
  if (buffers && size > buffers.capacity) {
    throw new RangeError(`makeBatch: ${size} rows do not fit buffers of ${buffers.capacity}`);
  }
  const pixels = buffers
    ? buffers.pixels.subarray(0, size * IMAGE_BYTES)
    : new Float32Array(size * IMAGE_BYTES);
  const top = buffers ? buffers.top.subarray(0, size) : new Int32Array(size);
  const bottom = buffers ? buffers.bottom.subarray(0, size) : new Int32Array(size);
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
