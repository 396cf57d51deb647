/**
 * Run as a child process by test/native-backend.test.ts: trains each of the seven architectures for a
 * few steps on one backend (same seed, batches and small splits on every backend) and evaluates it;
 * prints one JSON line per architecture. A child, so that backend `tensorflow` never loads into mocha.
 * Usage: node train-archs-child.js BACKEND [STEPS]
 */
import { subsetSplit } from '../../worker/data/index.js';
import { type BackendName, selectBackend } from '../../worker/backends/index.js';
import { architectureNames } from '../../worker/models/index.js';
import { train } from '../../worker/training/index.js';
import { testDataset } from './dataset.js';

export interface ArchRun {
  arch: string;
  backend: string;
  /** Mean training loss over the steps. */
  train_loss: number;
  /** Validation loss after the steps. */
  val_loss: number;
  test_acc: number;
  steps: number;
}

const backend = process.argv[2] as BackendName;
const steps = Number(process.argv[3] ?? 4);
const BATCH = 8;

await selectBackend(backend);
const ds = await testDataset();
const small = { ...ds, val: subsetSplit(ds.val, 64), test: subsetSplit(ds.test, 32) };
for (const arch of architectureNames()) {
  const r = await train(
    {
      arch,
      optimizer: 'adam',
      learningRate: 0.002,
      batchSize: BATCH,
      epochs: 1,
      seed: 7,
      trainSize: BATCH * steps,
    },
    small,
  );
  const run: ArchRun = {
    arch,
    backend: r.backend,
    train_loss: r.epochs[0].train_loss,
    val_loss: r.epochs[0].val_loss,
    test_acc: r.test.test_acc,
    steps,
  };
  process.stdout.write(`${JSON.stringify(run)}\n`);
}
