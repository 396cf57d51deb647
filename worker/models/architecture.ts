import type * as tf from '@tensorflow/tfjs';

/** Input images: 42 rows x 28 columns, one channel, values scaled to [0, 1]. */
export const INPUT_SHAPE: [number, number, number] = [42, 28, 1];
/** Classes per head. */
export const HEAD_CLASSES = 10;

export interface BuildModelOptions {
  /** Seed for the initial weights. */
  seed: number;
}

/**
 * One network family. `build` returns a model with one input [batch, 42, 28, 1] and two outputs,
 * [top logits, bottom logits], each [batch, 10]. The softmax of each head is applied by the loss
 * (softmax cross-entropy on logits, numerically stable) and by prediction code.
 */
export interface Architecture {
  name: string;
  description: string;
  build(options: BuildModelOptions): tf.LayersModel;
}
