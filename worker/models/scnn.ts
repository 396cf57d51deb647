import * as tf from '@tensorflow/tfjs';
import { type Architecture, type BuildModelOptions, HEAD_CLASSES, INPUT_SHAPE } from './architecture.js';
import { bottomCrop, chain, LayerFactory, topCrop } from './layers.js';

function tower(f: LayerFactory, input: tf.SymbolicTensor, side: 'top' | 'bottom'): tf.SymbolicTensor {
  return chain(input, [
    f.conv(32, `${side}_conv1`),
    f.poolKeep(`${side}_pool1`),
    f.conv(64, `${side}_conv2`),
    f.poolKeep(`${side}_pool2`),
    tf.layers.flatten({ name: `${side}_flatten` }),
    f.dense(HEAD_CLASSES, `${side}_logits`),
  ]);
}

function build(options: BuildModelOptions): tf.LayersModel {
  const f = new LayerFactory(options);
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  const top = tower(f, topCrop().apply(input) as tf.SymbolicTensor, 'top');
  const bottom = tower(f, bottomCrop().apply(input) as tf.SymbolicTensor, 'bottom');
  return tf.model({ inputs: input, outputs: [top, bottom], name: 'scnn' });
}

export const scnn: Architecture = {
  name: 'scnn',
  description: 'split: top rows 0-27 and bottom rows 14-41, each its own 2 conv (32/64) + dense 10',
  build,
};
