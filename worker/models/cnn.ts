import * as tf from '@tensorflow/tfjs';
import { type Architecture, type BuildModelOptions, HEAD_CLASSES, INPUT_SHAPE } from './architecture.js';
import { chain, LayerFactory } from './layers.js';

function build(options: BuildModelOptions): tf.LayersModel {
  const f = new LayerFactory(options);
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  const features = chain(input, [
    f.conv(32, 'conv1'),
    f.poolKeep('pool1'),
    f.conv(64, 'conv2'),
    f.poolKeep('pool2'),
    f.conv(64, 'conv3'),
    f.poolKeep('pool3'),
    tf.layers.flatten({ name: 'flatten' }),
  ]);
  const top = f.dense(HEAD_CLASSES, 'top_logits').apply(features) as tf.SymbolicTensor;
  const bottom = f.dense(HEAD_CLASSES, 'bottom_logits').apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [top, bottom], name: 'cnn' });
}

export const cnn: Architecture = {
  name: 'cnn',
  description:
    '3 conv 3x3 (32/64/64) ReLU + 3x3 stride-1 max-pool on the whole 42x28 image -> two dense 10 heads',
  build,
};
