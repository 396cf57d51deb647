import * as tf from '@tensorflow/tfjs';
import { type Architecture, type BuildModelOptions, HEAD_CLASSES, INPUT_SHAPE } from './architecture.js';
import { LayerFactory } from './layers.js';

function buildMlp(name: string, hidden: 'relu' | 'linear', options: BuildModelOptions): tf.LayersModel {
  const f = new LayerFactory(options);
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(input) as tf.SymbolicTensor;
  const h = f.dense(64, 'hidden', hidden).apply(flat) as tf.SymbolicTensor;
  // The report's dense 20 split into two 10-way heads is the same map as two dense 10 heads.
  const top = f.dense(HEAD_CLASSES, 'top_logits').apply(h) as tf.SymbolicTensor;
  const bottom = f.dense(HEAD_CLASSES, 'bottom_logits').apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [top, bottom], name });
}

export const mlp: Architecture = {
  name: 'mlp',
  description: 'flatten 1176 -> dense 64 ReLU -> two dense 10 heads (the report MLP)',
  build: (options) => buildMlp('mlp', 'relu', options),
};

export const mlpLinear: Architecture = {
  name: 'mlp_linear',
  description: 'the MLP without the ReLU: flatten 1176 -> dense 64 linear -> two dense 10 heads',
  build: (options) => buildMlp('mlp_linear', 'linear', options),
};
