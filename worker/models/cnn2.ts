import * as tf from '@tensorflow/tfjs';
import { type Architecture, type BuildModelOptions, HEAD_CLASSES, INPUT_SHAPE } from './architecture.js';
import { chain, LayerFactory } from './layers.js';
import { separableTower } from './scnn3.js';

function build(options: BuildModelOptions): tf.LayersModel {
  const f = new LayerFactory(options);
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  // 42x28 -> 21x14 -> 10x7 -> 5x3 (x64 channels) -> 960 features.
  const features = chain(input, [...separableTower(f), tf.layers.flatten({ name: 'flatten' })]);
  const top = f.dense(HEAD_CLASSES, 'top_logits').apply(features) as tf.SymbolicTensor;
  const bottom = f.dense(HEAD_CLASSES, 'bottom_logits').apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [top, bottom], name: 'cnn2' });
}

export const cnn2: Architecture = {
  name: 'cnn2',
  description:
    "scnn3's depthwise-separable tower (32/64/64, 2x2 pools) on the whole image -> two dense 10 heads",
  build,
};
