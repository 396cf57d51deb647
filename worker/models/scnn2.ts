import * as tf from '@tensorflow/tfjs';
import { type Architecture, type BuildModelOptions, HEAD_CLASSES, INPUT_SHAPE } from './architecture.js';
import { bottomCrop, chain, LayerFactory, topCrop } from './layers.js';

function build(options: BuildModelOptions): tf.LayersModel {
  const f = new LayerFactory(options);
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  // One tower, applied to both crops: the layer objects are shared, so are their weights.
  const shared = [
    f.conv(32, 'conv1'),
    f.poolKeep('pool1'),
    f.conv(64, 'conv2'),
    f.poolKeep('pool2'),
    f.conv(64, 'conv3'),
    f.poolKeep('pool3'),
    tf.layers.flatten({ name: 'flatten' }),
    f.dense(HEAD_CLASSES, 'digit_logits'),
  ];
  const top = chain(topCrop().apply(input) as tf.SymbolicTensor, shared);
  const bottom = chain(bottomCrop().apply(input) as tf.SymbolicTensor, shared);
  return tf.model({ inputs: input, outputs: [top, bottom], name: 'scnn2' });
}

export const scnn2: Architecture = {
  name: 'scnn2',
  description: 'split with SHARED weights: one tower (conv 32/64/64 + dense 10) applied to both crops',
  build,
};
