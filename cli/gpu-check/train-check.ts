/**
 * Part 1 of `hpo gpu-check`: the trainer's own step (worker/training/train-step.ts) on one model for a
 * fixed number of steps, in this process, on the backend asked for; images/s over the timed steps (after
 * a warm-up, and synchronised with a read of the running totals, so queued GPU work is counted).
 */
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, selectBackend } from '../../worker/backends/backend.js';
import type { OpsDevice } from '../../worker/backends/tf-device.js';
import type { Split } from '../../worker/data/types.js';
import { disposeModel } from '../../worker/models/dispose.js';
import { getArchitecture } from '../../worker/models/registry.js';
import { disposeBatch, identityOrder, makeBatch } from '../../worker/training/batches.js';
import { createOptimizer } from '../../worker/training/optimizer.js';
import { trainStep, zeroTotals } from '../../worker/training/train-step.js';

export interface TrainCheckOptions {
  backend: BackendChoice;
  arch: string;
  steps: number;
  batch: number;
  warmupSteps: number;
  split: Split;
}

export interface TrainCheckResult {
  backend: string;
  /** Where TensorFlow ran the ops (tensorflow backends), `cpu` for the others; null when unknown. */
  device: OpsDevice | null;
  arch: string;
  batch: number;
  steps: number;
  seconds: number;
  images_per_s: number;
  /** Mean loss of the timed steps (a finite number: the steps really trained). */
  mean_loss: number;
}

export async function trainCheck(options: TrainCheckOptions): Promise<TrainCheckResult> {
  const selection = await selectBackend(options.backend);
  const { split, batch } = options;
  const model = getArchitecture(options.arch).build({ seed: 1 });
  const optimizer = createOptimizer('adam', 0.001);
  const order = identityOrder(split.count);
  let start = 0;
  let totals = zeroTotals();
  const step = () => {
    if (start + batch > split.count) start = 0;
    const b = makeBatch(split, order, start, start + batch);
    start += batch;
    totals = trainStep(model, optimizer, b, totals);
    disposeBatch(b);
  };
  try {
    for (let i = 0; i < options.warmupSteps; i++) step();
    totals.dataSync();
    totals.dispose();
    totals = zeroTotals();
    const t0 = performance.now();
    for (let i = 0; i < options.steps; i++) step();
    const sums = totals.dataSync(); // waits for every queued op
    const seconds = (performance.now() - t0) / 1000;
    return {
      backend: selection.backend,
      device: selection.device ?? null,
      arch: options.arch,
      batch,
      steps: options.steps,
      seconds,
      images_per_s: (options.steps * batch) / seconds,
      mean_loss: sums[0] / (options.steps * batch),
    };
  } finally {
    totals.dispose();
    optimizer.dispose();
    disposeModel(model);
    tf.disposeVariables();
  }
}
