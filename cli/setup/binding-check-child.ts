/**
 * Run in a child process by `hpo setup tensorflow` (check-binding.ts): selects the backend the way a
 * worker does, runs one op and prints one JSON line (backend, TensorFlow's version, the op's result).
 * A child, so that a binding which crashes or fails to load cannot take hpo down with it.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../worker/backends/backend.js';

const name = process.argv[2] === 'tensorflow-gpu' ? 'tensorflow-gpu' : 'tensorflow';
await selectBackend(name);
const product = tf.matMul(
  tf.tensor2d([
    [1, 2],
    [3, 4],
  ]),
  tf.tensor2d([
    [5, 6],
    [7, 8],
  ]),
);
const backend = tf.backend() as unknown as { binding?: { TF_Version?: string }; isUsingGpuDevice?: boolean };
process.stdout.write(
  `${JSON.stringify({
    backend: tf.getBackend(),
    tfVersion: backend.binding?.TF_Version ?? null,
    tfjsVersion: tf.version.tfjs,
    gpuDevice: backend.isUsingGpuDevice ?? null,
    matMul: Array.from(await product.data()),
  })}\n`,
);
