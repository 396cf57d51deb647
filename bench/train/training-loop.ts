import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../worker/data/types.js';
import { disposeModel } from '../../worker/models/dispose.js';
import { getArchitecture } from '../../worker/models/registry.js';
import { disposeBatch, identityOrder, makeBatch } from '../../worker/training/batches.js';
import { createOptimizer } from '../../worker/training/optimizer.js';
import { trainStep, zeroTotals } from '../../worker/training/train-step.js';
import { LEARNING_RATE, SEED } from './bench-options.js';
import { modelFlops } from './flops.js';

/** A tiny training loop around the trainer's own step (worker/training/train-step.ts). */
export class TrainingLoop {
  private readonly model: tf.LayersModel;
  private readonly optimizer: tf.Optimizer;
  private readonly order: Int32Array;
  private start = 0;
  private totals: tf.Tensor1D;

  constructor(
    arch: string,
    private readonly split: Split,
    private readonly batch: number,
  ) {
    this.model = getArchitecture(arch).build({ seed: SEED });
    this.optimizer = createOptimizer('adam', LEARNING_RATE);
    this.order = identityOrder(split.count);
    this.totals = zeroTotals();
  }

  get flops(): number {
    return modelFlops(this.model).training;
  }

  /** One training step; returns its wall time in ms. */
  step(): number {
    const t0 = performance.now();
    if (this.start + this.batch > this.split.count) this.start = 0;
    const batch = makeBatch(this.split, this.order, this.start, this.start + this.batch);
    this.start += this.batch;
    this.totals = trainStep(this.model, this.optimizer, batch, this.totals);
    disposeBatch(batch);
    return performance.now() - t0;
  }

  dispose(): void {
    this.totals.dispose();
    this.optimizer.dispose();
    disposeModel(this.model);
  }
}
