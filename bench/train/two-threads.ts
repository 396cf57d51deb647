/** The same trial alone in a 1-thread TrialPool and twice at once in a 2-thread pool. */
import { PROTOCOL_VERSION, type TrialSpec } from '../../shared/protocol/index.js';
import { TrialPool } from '../../worker/pool/trial-pool.js';
import { type BenchTrainOptions, LEARNING_RATE, SEED } from './bench-options.js';
import type { TwoThreadResult } from './bench-results.js';

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
}

/** Runs the trials at once; resolves with the wall time and each trial's training images/s. */
export async function runTrials(pool: TrialPool, specs: TrialSpec[]): Promise<TrialsRun> {
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
  return { seconds, rates, cores: (cpu.user + cpu.system) / 1e6 / seconds };
}

/**
 * One trial alone in a 1-thread pool (T1) against two at once in a 2-thread pool (T2), in the order
 * 1, 2, 2, 1 (so that a drift of the machine's load hits both alike); speed-up = 2 * mean T1 / mean T2.
 * Both pools are warmed first: each thread loads the backend and the data set and runs a 1-step trial.
 */
export async function measureTwoThreads(opts: BenchTrainOptions): Promise<TwoThreadResult> {
  const { threadsArch: arch, threadsBatch: batch, threadsTrainSize: trainSize } = opts;
  const pools = new Map<number, TrialPool>();
  let n = 0;
  const specs = (threads: number, images: number): TrialSpec[] =>
    Array.from({ length: threads }, () => trialSpec(`t${++n}`, arch, batch, images));
  try {
    for (const threads of [1, 2]) {
      const pool = new TrialPool({ threads, backend: 'wasm', dataDir: opts.dataDir, name: 'bench-train' });
      pools.set(threads, pool);
      await runTrials(pool, specs(threads, batch));
    }
    const runs = new Map<number, TrialsRun[]>([
      [1, []],
      [2, []],
    ]);
    for (const threads of [1, 2, 2, 1]) {
      runs.get(threads)!.push(await runTrials(pools.get(threads)!, specs(threads, trainSize)));
    }
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const one = runs.get(1)!;
    const two = runs.get(2)!;
    const t1 = mean(one.map((r) => r.seconds));
    const t2 = mean(two.map((r) => r.seconds));
    const rate1 = mean(one.map((r) => r.rates[0]));
    const rate2 = mean(two.map((r) => r.rates.reduce((s, x) => s + x, 0)));
    return {
      arch,
      batch,
      train_size: trainSize,
      one_thread_seconds: t1,
      two_threads_seconds: t2,
      speedup_2_threads: (2 * t1) / t2,
      train_images_per_s_1_thread: rate1,
      train_images_per_s_2_threads: rate2,
      train_speedup_2_threads: rate2 / rate1,
      cores_used_1_thread: mean(one.map((r) => r.cores)),
      cores_used_2_threads: mean(two.map((r) => r.cores)),
      cpu_normalized_speedup_2_threads:
        2 / (mean(two.map((r) => r.cores * r.seconds)) / 2 / mean(one.map((r) => r.cores * r.seconds))),
    };
  } finally {
    for (const pool of pools.values()) await pool.close();
  }
}
