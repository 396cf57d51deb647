/** One row of the table: an architecture's training step timed on one backend and batch size. */
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../worker/data/types.js';
import type { BenchBackend } from './bench-options.js';
import type { BenchRow, RowProfile } from './bench-results.js';
import { CeilingSampler } from './ceiling-sampler.js';
import { profileKernels } from './kernel-profile.js';
import { median } from './median.js';
import { TrainingLoop } from './training-loop.js';

export interface StepPlan {
  warmupSteps: number;
  warmupSeconds: number;
  minSteps: number;
  minSeconds: number;
  maxSteps: number;
}

export function measureRow(
  arch: string,
  backend: BenchBackend,
  batch: number,
  split: Split,
  plan: StepPlan,
  ceilingBatch: number,
  profile: boolean,
): BenchRow {
  // Ceiling samples between the timed steps: the machine's load drifts (a shared machine), the
  // ratio should not.
  const ceiling = new CeilingSampler(ceilingBatch);
  const loop = new TrainingLoop(arch, split, batch);
  try {
    let warm = 0;
    let warmMs = 0;
    while (warm < plan.warmupSteps || warmMs < plan.warmupSeconds * 1000) {
      warmMs += loop.step();
      warm++;
    }
    const tensorsBefore = tf.memory().numTensors;
    const times: number[] = [];
    let total = 0;
    while (times.length < plan.maxSteps && (times.length < plan.minSteps || total < plan.minSeconds * 1000)) {
      const dt = loop.step();
      times.push(dt);
      total += dt;
      ceiling.maybeSample();
    }
    const tensorGrowth = tf.memory().numTensors - tensorsBefore;
    const ceilingRate = ceiling.rate();
    const stepMs = median(times);
    const imagesPerS = batch / (stepMs / 1000);
    const flops = loop.flops;
    const row: BenchRow = {
      arch,
      backend,
      batch,
      images_per_s: imagesPerS,
      flops_per_image: flops,
      ceiling_flops_per_s: ceilingRate,
      ceiling_samples: ceiling.samples,
      ratio: (imagesPerS * flops) / ceilingRate,
      median_step_ms: stepMs,
      steps: times.length,
      warmup_steps: warm,
      tensor_growth: tensorGrowth,
    };
    if (profile) row.profile = profileRow(loop, backend, Math.max(3, Math.ceil(1000 / stepMs)));
    return row;
  } finally {
    loop.dispose();
    ceiling.dispose();
  }
}

export function profileRow(loop: TrainingLoop, backend: BenchBackend, steps: number): RowProfile {
  const p = profileKernels(backend, () => {
    for (let i = 0; i < steps; i++) loop.step();
  });
  return {
    steps,
    step_ms: p.totalMs / steps,
    kernel_ms: p.kernelMs / steps,
    kernels: p.kernels.map((k) => ({
      kernel: k.kernel,
      inner: k.inner,
      ms_per_step: k.ms / steps,
      calls_per_step: k.calls / steps,
    })),
  };
}
