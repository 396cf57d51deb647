/**
 * Run as a child process by test/auto-backend.test.ts (backend `tensorflow` never loads into mocha): the
 * thread backend under `auto`, trial after trial as a pool thread sees them. Prints one JSON line:
 * `steps`, what each call returned and tfjs's active backend after it.
 * Usage: node auto-backend-child.js pool|inline
 */
import * as tf from '@tensorflow/tfjs';
import { allowFamilyBackends, ensureThreadBackend, threadTfjs } from '../../worker/backends/index.js';

if (process.argv[2] === 'pool') allowFamilyBackends();
const steps: Array<{ call: string; returned: string; active: string; tensors: number }> = [];
const step = async (call: string, run: () => Promise<string>) => {
  const returned = await run();
  // A small computation on the active backend, disposed before the next switch.
  tf.tidy(() =>
    tf
      .matMul(tf.ones([4, 4]), tf.ones([4, 4]))
      .sum()
      .dataSync(),
  );
  steps.push({ call, returned, active: tf.getBackend(), tensors: tf.memory().numTensors });
};
await step('mlp', () => ensureThreadBackend('auto', { family: 'mlp' }));
await step('cnn', () => ensureThreadBackend('auto', { family: 'cnn' }));
await step('mlp_linear', () => ensureThreadBackend('auto', { family: 'mlp_linear' }));
await step('module', async () => (await threadTfjs('auto')).getBackend());
await step('mlp', () => ensureThreadBackend('auto', { family: 'mlp' }));
process.stdout.write(`${JSON.stringify({ steps })}\n`);
