import * as tf from '@tensorflow/tfjs';
import { type Architecture, type BuildModelOptions, HEAD_CLASSES, INPUT_SHAPE } from './architecture.js';
import { bottomCrop, chain, LayerFactory, topCrop } from './layers.js';

/**
 * The report names no layer sizes for SCNN3/CNN2: "depthwise separable convolution layers" and
 * "shrink the dimensions of the last convolution output tensor with maxpool". Our reading: three
 * separable 3x3 convs (32/64/64, ReLU), each followed by a 2x2 stride-2 max-pool.
 */
export function separableTower(f: LayerFactory): tf.layers.Layer[] {
  return [
    f.separableConv(32, 'sep1'),
    f.poolShrink('pool1'),
    f.separableConv(64, 'sep2'),
    f.poolShrink('pool2'),
    f.separableConv(64, 'sep3'),
    f.poolShrink('pool3'),
  ];
}

function build(options: BuildModelOptions): tf.LayersModel {
  const f = new LayerFactory(options);
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  // Shared tower as in scnn2 (its successor in the report): 28x28 -> 14x14 -> 7x7 -> 3x3 (x64) -> 576.
  const shared = [
    ...separableTower(f),
    tf.layers.flatten({ name: 'flatten' }),
    f.dense(HEAD_CLASSES, 'digit_logits'),
  ];
  const top = chain(topCrop().apply(input) as tf.SymbolicTensor, shared);
  const bottom = chain(bottomCrop().apply(input) as tf.SymbolicTensor, shared);
  return tf.model({ inputs: input, outputs: [top, bottom], name: 'scnn3' });
}

export const scnn3: Architecture = {
  name: 'scnn3',
  description:
    'split, shared depthwise-separable tower (32/64/64) with 2x2 pools shrinking to 3x3 -> dense 10',
  build,
};
