/** The same trial alone in a 1-thread TrialPool and twice at once in a 2-thread pool. */
import { PROTOCOL_VERSION, type TrialSpec } from '../../shared/protocol/index.js';
import { TrialPool } from '../../worker/pool/trial-pool.js';
import { type BenchTrainOptions, LEARNING_RATE, type PoolBackend, SEED } from './bench-options.js';
import type { TwoThreadResult } from './bench-results.js';
import { SPLIT_COUNTS } from '../../worker/data/constants.js';
import { phaseScaling, trialPhases, type TrialPhases } from './trial-phases.js';

export function trialSpec(id: string, arch: string, batch: number, trainSize: number): TrialSpec {
  return {
    v: PROTOCOL_VERSION,
    experiment: 'bench-train',
    experiment_id: 'bench-train',
    trial_id: id,
    attempt: 1,
    task: 'multi-digit-mnist',
    params: {
      arch,
      optimizer: 'adam',
      learning_rate: LEARNING_RATE,
      batch_size: batch,
      epochs: 1,
      train_size: trainSize,
    },
    seed: SEED,
    data: { seed: SEED },
  };
}

export interface TrialsRun {
  seconds: number;
  /** Training images/s of each trial (its epoch metric). */
  rates: number[];
  /** CPU time of this process (all threads) / wall time: the cores the trials actually got. */
  cores: number;
  /** Each trial's training, validation and test phases (trialPhases). */
  phases: TrialPhases[];
  /** The backend the trials reported. */
  backend: string;
}

/** Runs the trials at once; resolves with the wall time and each trial's training images/s. */
export async function runTrials(pool: TrialPool, specs: TrialSpec[], trainSize: number): Promise<TrialsRun> {
  const rates: number[] = [];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const results = await Promise.all(
    specs.map((spec) =>
      pool.run(spec, {
        signal: new AbortController().signal,
        onEpoch: async (event) => {
          rates.push(event.metrics.images_per_s);
          return 'continue';
        },
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const r of results) {
    if (r.state !== 'completed') throw new Error(`trial ${r.trial_id} ${r.state}: ${r.error ?? ''}`);
  }
  return {
    seconds,
    rates,
    cores: (cpu.user + cpu.system) / 1e6 / seconds,
    phases: results.map((r) => trialPhases(r, trainSize)),
    backend: results[0]?.backend ?? 'unknown',
  };
}

/**
 * One trial alone in a 1-thread pool (T1) against two at once in a 2-thread pool (T2), in the order
 * 1, 2, 2, 1 (so that a drift of the machine's load hits both alike); speed-up = 2 * mean T1 / mean T2.
 * Both pools are warmed first: each thread loads the backend and the data set and runs a 1-step trial.
 * On tensorflow each trial thread runs TensorFlow's ops in 1 thread (bench-train sets that first).
 */
export async function measureTwoThreads(
  opts: BenchTrainOptions,
  backend: PoolBackend,
): Promise<TwoThreadResult> {
  const { threadsArch: arch, threadsBatch: batch, threadsTrainSize: trainSize } = opts;
  const pools = new Map<number, TrialPool>();
  let n = 0;
  const specs = (threads: number, images: number): TrialSpec[] =>
    Array.from({ length: threads }, () => trialSpec(`t${++n}`, arch, batch, images));
  try {
    for (const threads of [1, 2]) {
      const pool = new TrialPool({ threads, backend, dataDir: opts.dataDir, name: 'bench-train' });
      pools.set(threads, pool);
      await runTrials(pool, specs(threads, batch), batch);
    }
    const runs = new Map<number, TrialsRun[]>([
      [1, []],
      [2, []],
    ]);
    for (const threads of [1, 2, 2, 1]) {
      runs.get(threads)!.push(await runTrials(pools.get(threads)!, specs(threads, trainSize), trainSize));
    }
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const one = runs.get(1)!;
    const two = runs.get(2)!;
    const t1 = mean(one.map((r) => r.seconds));
    const t2 = mean(two.map((r) => r.seconds));
    const rate1 = mean(one.map((r) => r.rates[0]));
    const rate2 = mean(two.map((r) => r.rates.reduce((s, x) => s + x, 0)));
    const cores1 = mean(one.map((r) => r.cores));
    const cores2 = mean(two.map((r) => r.cores));
    const phases = phaseScaling(
      one.flatMap((r) => r.phases),
      two.flatMap((r) => r.phases),
      cores1,
      cores2,
    );
    const evalImages = SPLIT_COUNTS.val + SPLIT_COUNTS.test;
    for (const r of [...one, ...two]) {
      if (r.backend !== backend) throw new Error(`pool trials ran on backend ${r.backend}, not ${backend}`);
    }
    return {
      backend,
      arch,
      batch,
      train_size: trainSize,
      one_thread_seconds: t1,
      two_threads_seconds: t2,
      speedup_2_threads: (2 * t1) / t2,
      train_images_per_s_1_thread: rate1,
      train_images_per_s_2_threads: rate2,
      train_speedup_2_threads: rate2 / rate1,
      eval_images: evalImages,
      eval_images_per_s_1_thread: evalImages / phases.evaluation_seconds.seconds_1_thread,
      eval_images_per_s_2_threads: (2 * evalImages) / phases.evaluation_seconds.seconds_2_threads,
      eval_speedup_2_threads: phases.evaluation_seconds.speedup_2_threads,
      phases,
      cores_used_1_thread: cores1,
      cores_used_2_threads: cores2,
      cpu_normalized_speedup_2_threads:
        2 / (mean(two.map((r) => r.cores * r.seconds)) / 2 / mean(one.map((r) => r.cores * r.seconds))),
    };
  } finally {
    for (const pool of pools.values()) await pool.close();
  }
}
