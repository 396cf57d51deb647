/** What bench-train measures: the rows, the 2-thread pool result and the targets of its JSON output. */
import type { BenchBackend, PoolBackend } from './bench-options.js';
import type { PhaseScaling, TrialPhases } from './trial-phases.js';

/** Where the time of a step goes, per kernel (kernel-profile.ts), averaged over a few steps. */
export interface RowProfile {
  steps: number;
  step_ms: number;
  /** Time in top-level kernels per step; the rest of step_ms is JavaScript (engine, layers, optimizer). */
  kernel_ms: number;
  kernels: { kernel: string; inner: boolean; ms_per_step: number; calls_per_step: number }[];
}

export interface BenchRow {
  arch: string;
  backend: BenchBackend;
  batch: number;
  images_per_s: number;
  flops_per_image: number;
  ceiling_flops_per_s: number;
  /** Forward conv2d runs of the ceiling layer, taken between the timed steps. */
  ceiling_samples: number;
  ratio: number;
  median_step_ms: number;
  steps: number;
  warmup_steps: number;
  /** tf.memory().numTensors after the timed steps minus after the warm-up (0: no leak). */
  tensor_growth: number;
  profile?: RowProfile;
}

export interface TwoThreadResult {
  backend: PoolBackend;
  arch: string;
  batch: number;
  train_size: number;
  /** Wall time of the trial alone in a 1-thread pool (mean of 2 runs). */
  one_thread_seconds: number;
  /** Wall time of two copies of the trial at once in a 2-thread pool (mean of 2 runs). */
  two_threads_seconds: number;
  speedup_2_threads: number;
  /** Training images/s (the trial's epoch metric) alone, and summed over the two threads. */
  train_images_per_s_1_thread: number;
  train_images_per_s_2_threads: number;
  train_speedup_2_threads: number;
  /** Images of the evaluation (validation and test passes) of one trial. */
  eval_images: number;
  /** Evaluated images/s alone, and summed over the two threads (from the phases' seconds). */
  eval_images_per_s_1_thread: number;
  eval_images_per_s_2_threads: number;
  /** 2 x evaluation seconds alone / evaluation seconds of each trial of the pair. */
  eval_speedup_2_threads: number;
  /**
   * Per phase of a trial (trial-phases.ts): mean seconds alone and in the pair, and the speed-up. The
   * two trials of a pair start together and do the same work, so their phases run at the same time.
   */
  phases: Record<keyof TrialPhases, PhaseScaling>;
  /**
   * CPU seconds of the process per wall second while the trials ran: how many cores they got. Well
   * under 2 with 2 threads means the machine was busy with other work, not that the threads scale badly.
   */
  cores_used_1_thread: number;
  cores_used_2_threads: number;
  /**
   * 2 / (CPU seconds per trial with 2 threads / CPU seconds of the trial alone): the speed-up two
   * FREE cores would give, if the threads only slowed each other through shared caches and memory.
   * An estimate for a busy machine, where the wall-clock speed-up measures the other load instead.
   */
  cpu_normalized_speedup_2_threads: number;
}

export interface Target {
  target: string;
  value: number | null;
  threshold: number;
  met: boolean;
}
