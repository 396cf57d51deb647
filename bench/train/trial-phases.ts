/**
 * Where the wall time of a one-epoch `multi-digit-mnist` trial goes, from the metrics the trial itself
 * reports: its training steps, its validation pass, and the rest of the trainer's run (the test pass,
 * plus building the model and waiting for the epoch's decision, both a few ms).
 */
import type { ResultEvent } from '../../shared/protocol/index.js';

export interface TrialPhases {
  /** Training steps of the epoch: train_size / images_per_s. */
  train_seconds: number;
  /** The validation pass after the epoch: epoch_seconds - train_seconds. */
  validation_seconds: number;
  /** The trainer's run after the epoch and before it (test pass, model build, decision): seconds - epoch_seconds. */
  test_seconds: number;
  /** Validation and test passes together. */
  evaluation_seconds: number;
}

/** Phases of a completed one-epoch trial of `trainSize` images, from its result metrics. */
export function trialPhases(result: ResultEvent, trainSize: number): TrialPhases {
  const m = result.metrics;
  const need = (key: string): number => {
    const v = m[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`trial ${result.trial_id}: result metric ${key} missing (got ${String(v)})`);
    }
    return v;
  };
  if (need('epoch') !== 1) throw new Error(`trial ${result.trial_id}: expected 1 epoch, got ${m.epoch}`);
  const train = trainSize / need('images_per_s');
  const validation = need('epoch_seconds') - train;
  const test = need('seconds') - need('epoch_seconds');
  return {
    train_seconds: train,
    validation_seconds: validation,
    test_seconds: test,
    evaluation_seconds: validation + test,
  };
}

/** Per phase: mean seconds of a trial alone, of each trial of a pair, and 2 x alone / pair. */
export interface PhaseScaling {
  seconds_1_thread: number;
  seconds_2_threads: number;
  speedup_2_threads: number;
  /**
   * speedup_2_threads x 2 x cores used alone / cores used by the pair: the phase's speed-up on two free
   * cores, taking the cores the process got over the whole runs as the cores it got in this phase.
   */
  cpu_normalized_speedup_2_threads: number;
}

/** `cores1`, `cores2`: CPU seconds of the process per wall second, alone and in the pair. */
export function phaseScaling(
  one: TrialPhases[],
  two: TrialPhases[],
  cores1: number,
  cores2: number,
): Record<keyof TrialPhases, PhaseScaling> {
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const keys: (keyof TrialPhases)[] = [
    'train_seconds',
    'validation_seconds',
    'test_seconds',
    'evaluation_seconds',
  ];
  return Object.fromEntries(
    keys.map((k) => {
      const s1 = mean(one.map((p) => p[k]));
      const s2 = mean(two.map((p) => p[k]));
      const speedup = (2 * s1) / s2;
      return [
        k,
        {
          seconds_1_thread: s1,
          seconds_2_threads: s2,
          speedup_2_threads: speedup,
          cpu_normalized_speedup_2_threads: (speedup * 2 * cores1) / cores2,
        },
      ];
    }),
  ) as Record<keyof TrialPhases, PhaseScaling>;
}
