/**
 * Compares hpo's `tensorflow` kernels (worker/backends/tensorflow-kernels.ts) with tfjs-node's own on
 * gradients through max-pools and ReLUs: `node dist/test/native/kernel-check.js` prints one JSON
 * document {cases: [{name, max_abs_diff}], step}. Run in its own process by tensorflow-kernels.test.ts
 * (loading tfjs-node registers its backend in the process).
 */
import * as tf from '@tensorflow/tfjs';

interface Case {
  name: string;
  shape: [number, number, number, number];
  pool: [number, number, 'same' | 'valid'];
  /** Values from {-1, 0, 1}: many ties in each window. */
  ties: boolean;
}

const CASES: Case[] = [
  { name: 'cnn pool 3x3 s1 same', shape: [4, 42, 28, 32], pool: [3, 1, 'same'], ties: false },
  { name: 'cnn2 pool 2x2 s2 valid', shape: [4, 21, 14, 64], pool: [2, 2, 'valid'], ties: false },
  { name: 'odd 3x3 s2 same, 3 channels', shape: [3, 9, 7, 3], pool: [3, 2, 'same'], ties: false },
  { name: 'ties 3x3 s1 same', shape: [2, 12, 10, 5], pool: [3, 1, 'same'], ties: true },
  { name: 'ties 2x2 s2 valid', shape: [2, 11, 9, 4], pool: [2, 2, 'valid'], ties: true },
];

function input(c: Case): tf.Tensor4D {
  const x = tf.randomNormal(c.shape, 0, 1, 'float32', 7) as tf.Tensor4D;
  return c.ties ? (tf.round(tf.clipByValue(x, -1, 1)) as tf.Tensor4D) : x;
}

/** Gradient of sum(relu(maxPool(x)) * w) with respect to x. */
function gradient(c: Case, x: tf.Tensor4D): tf.Tensor {
  const [size, stride, pad] = c.pool;
  return tf.tidy(() => {
    const probe = tf.maxPool(x, size, stride, pad);
    const w = tf.randomNormal(probe.shape, 0, 1, 'float32', 11);
    const loss = (t: tf.Tensor) =>
      tf.sum(tf.mul(tf.relu(tf.maxPool(t as tf.Tensor4D, size, stride, pad)), w));
    return tf.grad(loss)(x);
  });
}

// In a variable: the package is optional, and the build must not need it.
const TFJS_NODE = '@tensorflow/tfjs-node';

async function main(): Promise<void> {
  await import(TFJS_NODE);
  await tf.setBackend('tensorflow');
  const inputs = CASES.map(input);
  const stock = CASES.map((c, i) => gradient(c, inputs[i]));
  const stockStep = tf.step(tf.tensor([NaN, -1, 0, 0.5, 2])).arraySync();
  const { registerTensorflowKernels } = await import('../../worker/backends/tensorflow-kernels.js');
  registerTensorflowKernels();
  const cases = CASES.map((c, i) => {
    const ours = gradient(c, inputs[i]);
    return {
      name: c.name,
      max_abs_diff: tf.max(tf.abs(tf.sub(ours, stock[i]))).dataSync()[0],
      nonzero: tf.sum(tf.notEqual(ours, 0)).dataSync()[0],
    };
  });
  const step = tf.step(tf.tensor([NaN, -1, 0, 0.5, 2])).arraySync();
  process.stdout.write(`${JSON.stringify({ cases, step: String(step), stock_step: String(stockStep) })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`kernel-check: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
