/**
 * Training-throughput benchmark: `npm run bench:train -- [--out FILE.json] [--arch a,b] [--backend
 * wasm,cpu] [--batch 32,64] ...` (all options: `--help`).
 *
 * Per architecture, backend and batch size it times the trainer's own step (makeBatch from the real
 * training split, optimizer.minimize over model.apply(x, {training: true}) and the two softmax
 * cross-entropies, adam) after a warm-up, and reports the median step as images/s, next to the model's
 * FLOPs per training image (flops.ts) and a ceiling measured in the same run, between the row's
 * timed steps: the backend's forward conv2d FLOP rate on a representative layer (the cnn's second
 * conv: 42x28, 32->64 channels, 3x3, same). ratio = images/s * FLOPs per image / ceiling.
 * tf.memory().numTensors is read after the warm-up and after the timed steps: a growth is a leak.
 * For some architectures (--profile) a few more steps are timed per kernel (kernel-profile.ts).
 *
 * Then it runs the same multi-digit-mnist trial alone in a 1-thread TrialPool and twice at once in a
 * 2-thread pool, in the order 1, 2, 2, 1, and reports the speed-up (2 * one trial's wall time / the
 * pair's wall time), with the cores the process actually got (a busy machine caps the speed-up).
 *
 * Writes a table to stdout and JSON to --out: { results: [{arch, backend, batch, images_per_s,
 * flops_per_image, ceiling_flops_per_s, ratio, ...}], speedup_2_threads, machine, tfjs, date, ... }.
 * Speed is noisy on a shared machine: compare rows of one run, not runs.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { plainTable } from '../../cli/plain-table.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../../shared/protocol/index.js';
import { type BackendName, selectBackend } from '../../worker/backends/backend.js';
import { loadDataset } from '../../worker/data/dataset.js';
import type { Split } from '../../worker/data/types.js';
import { disposeModel } from '../../worker/models/dispose.js';
import { architectureNames, getArchitecture } from '../../worker/models/registry.js';
import { TrialPool } from '../../worker/pool/trial-pool.js';
import { disposeBatch, identityOrder, makeBatch } from '../../worker/training/batches.js';
import { batchStats } from '../../worker/training/evaluate.js';
import { conv2dFlops, modelFlops } from './flops.js';
import { profileKernels } from './kernel-profile.js';

const BENCH_BACKENDS = ['wasm', 'cpu'] as const;
type BenchBackend = (typeof BENCH_BACKENDS)[number];
/** Architectures benchmarked on cpu by default (cpu is ~1000x slower on the conv models). */
const DEFAULT_CPU_ARCHS = ['cnn', 'mlp'];
/** The architectures without convolutions (timed like the others on cpu). */
const DENSE_ARCHS = new Set(['mlp', 'mlp_linear']);
const LEARNING_RATE = 0.001;
const SEED = 1;

/** The representative layer of the ceiling: the cnn's conv2 (42x28, 32 -> 64 channels, 3x3, same). */
const CEILING_LAYER = { h: 42, w: 28, k: 3, cin: 32, cout: 64 } as const;

interface Options {
  out: string;
  arch?: string[];
  backend: BenchBackend[];
  batch: number[];
  warmupSeconds: number;
  minSeconds: number;
  minSteps: number;
  maxSteps: number;
  cpuConvBatch: number;
  cpuConvSteps: number;
  threads: boolean;
  threadsOnly: boolean;
  threadsArch: string;
  threadsBatch: number;
  threadsTrainSize: number;
  profile: string[];
  dataDir?: string;
}

/** Where the time of a step goes, per kernel (kernel-profile.ts), averaged over a few steps. */
interface RowProfile {
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

interface TwoThreadResult {
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

interface Target {
  target: string;
  value: number | null;
  threshold: number;
  met: boolean;
}

// ---- argument parsing ---------------------------------------------------------------------------

function list<T>(parse: (item: string) => T): (value: string) => T[] {
  return (value) =>
    value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(parse);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected an integer > 0.');
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0.');
  return n;
}

function archName(value: string): string {
  if (!architectureNames().includes(value)) {
    throw new InvalidArgumentError(
      `unknown architecture; expected one of: ${architectureNames().join(', ')}.`,
    );
  }
  return value;
}

function backendName(value: string): BenchBackend {
  if (!(BENCH_BACKENDS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of: ${BENCH_BACKENDS.join(', ')}.`);
  }
  return value as BenchBackend;
}

function parseOptions(argv: string[]): Options {
  const program = new Command('bench-train')
    .description('Training images/s per architecture and backend, against a conv2d ceiling of the same run')
    .option('--out <file>', 'JSON output file', 'bench-train.json')
    .option(
      '--arch <names>',
      `comma-separated architectures (default: all on wasm; ${DEFAULT_CPU_ARCHS.join(', ')} on cpu)`,
      list(archName),
    )
    .addOption(
      new Option('--backend <names>', 'comma-separated backends: wasm, cpu')
        .argParser(list(backendName))
        .default(['wasm', 'cpu'], 'wasm,cpu'),
    )
    .addOption(
      new Option('--batch <sizes>', 'comma-separated batch sizes')
        .argParser(list(positiveInt))
        .default([32, 64], '32,64'),
    )
    .option(
      '--warmup-seconds <s>',
      'untimed steps first, for at least this long (and 2 steps)',
      nonNegative,
      2,
    )
    .option('--min-seconds <s>', 'timed steps: at least this long ...', nonNegative, 3)
    .option('--min-steps <n>', '... and at least this many', positiveInt, 5)
    .option('--max-steps <n>', 'at most this many timed steps', positiveInt, 2000)
    .option(
      '--cpu-conv-batch <n>',
      'batch of the conv models on cpu, instead of --batch (a cpu step of the cnn at batch 32 takes minutes)',
      positiveInt,
      2,
    )
    .option(
      '--cpu-conv-steps <n>',
      'timed steps of the conv models on cpu (after 1 warm-up step)',
      positiveInt,
      2,
    )
    .option('--no-threads', 'skip the 1-thread vs 2-thread trial pool measurement')
    .option('--threads-only', 'only the trial pool measurement (no per-architecture rows)')
    .option('--threads-arch <name>', 'architecture of the pool trials', archName, 'cnn2')
    .option('--threads-batch <n>', 'batch size of the pool trials', positiveInt, 64)
    .option('--threads-train-size <n>', 'training images of a pool trial (1 epoch)', positiveInt, 1920)
    .addOption(
      new Option(
        '--profile <names>',
        'architectures whose steps are also timed per kernel (not on cpu conv rows)',
      )
        .argParser(list(archName))
        .default(['cnn', 'scnn2', 'mlp'], 'cnn,scnn2,mlp'),
    )
    .option('--data-dir <dir>', 'data set cache folder (default: the hpo cache)');
  program.parse(argv);
  return program.opts<Options>();
}

// ---- measurements -------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The forward conv2d FLOP rate of the active backend on CEILING_LAYER at `batch` images. Samples are
 * taken between the training steps of a row (at most one per SAMPLE_GAP_MS), so that the ceiling and
 * the training see the same load of a shared machine; the rate is the median sample.
 */
class CeilingSampler {
  private static readonly SAMPLE_GAP_MS = 250;
  private static readonly MIN_SAMPLES = 5;
  private readonly x: tf.Tensor4D;
  private readonly filter: tf.Tensor4D;
  private readonly times: number[] = [];
  private last = -Infinity;

  constructor(private readonly batch: number) {
    const { h, w, k, cin, cout } = CEILING_LAYER;
    this.x = tf.randomNormal([batch, h, w, cin]) as tf.Tensor4D;
    this.filter = tf.randomNormal([k, k, cin, cout]) as tf.Tensor4D;
    this.run(); // warm-up: XNNPACK packs the filter on the first call
    this.run();
  }

  private run(): number {
    const t0 = performance.now();
    const y = tf.conv2d(this.x, this.filter, 1, 'same');
    const dt = performance.now() - t0;
    y.dispose();
    return dt;
  }

  /** Takes a sample if none was taken in the last SAMPLE_GAP_MS. */
  maybeSample(): void {
    const now = performance.now();
    if (now - this.last < CeilingSampler.SAMPLE_GAP_MS) return;
    this.times.push(this.run());
    this.last = performance.now();
  }

  /** FLOP/s (tops the samples up to MIN_SAMPLES first). */
  rate(): number {
    while (this.times.length < CeilingSampler.MIN_SAMPLES) this.times.push(this.run());
    const { h, w, k, cin, cout } = CEILING_LAYER;
    return conv2dFlops(this.batch, h, w, k, cin, cout) / (median(this.times) / 1000);
  }

  get samples(): number {
    return this.times.length;
  }

  dispose(): void {
    tf.dispose([this.x, this.filter]);
  }
}

/** A tiny training loop identical to the trainer's inner step (worker/training/trainer.ts). */
class TrainingLoop {
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
    this.optimizer = tf.train.adam(LEARNING_RATE);
    this.order = identityOrder(split.count);
    this.totals = tf.zeros([4]) as tf.Tensor1D;
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
    let stats: tf.Tensor1D | undefined;
    const loss = this.optimizer.minimize(() => {
      const [lt, lb] = this.model.apply(batch.x, { training: true }) as tf.Tensor[];
      stats = tf.keep(batchStats(lt, lb, batch.top, batch.bottom));
      return tf.add(
        tf.losses.softmaxCrossEntropy(batch.top, lt),
        tf.losses.softmaxCrossEntropy(batch.bottom, lb),
      ) as tf.Scalar;
    }, true);
    const next = tf.add(this.totals, stats!) as tf.Tensor1D;
    tf.dispose([this.totals, stats!, loss!]);
    disposeBatch(batch);
    this.totals = next;
    return performance.now() - t0;
  }

  dispose(): void {
    this.totals.dispose();
    this.optimizer.dispose();
    disposeModel(this.model);
  }
}

interface StepPlan {
  warmupSteps: number;
  warmupSeconds: number;
  minSteps: number;
  minSeconds: number;
  maxSteps: number;
}

function measureRow(
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

function profileRow(loop: TrainingLoop, backend: BenchBackend, steps: number): RowProfile {
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

// ---- two trials in two threads ------------------------------------------------------------------

function trialSpec(id: string, arch: string, batch: number, trainSize: number): TrialSpec {
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

interface TrialsRun {
  seconds: number;
  /** Training images/s of each trial (its epoch metric). */
  rates: number[];
  /** CPU time of this process (all threads) / wall time: the cores the trials actually got. */
  cores: number;
}

/** Runs the trials at once; resolves with the wall time and each trial's training images/s. */
async function runTrials(pool: TrialPool, specs: TrialSpec[]): Promise<TrialsRun> {
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
async function measureTwoThreads(opts: Options): Promise<TwoThreadResult> {
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

// ---- report -------------------------------------------------------------------------------------

function find(rows: BenchRow[], arch: string, backend: BenchBackend, batch?: number): BenchRow[] {
  return rows.filter(
    (r) => r.arch === arch && r.backend === backend && (batch === undefined || r.batch === batch),
  );
}

function targets(rows: BenchRow[], twoThreads: TwoThreadResult | null): Target[] {
  const out: Target[] = [];
  const push = (target: string, value: number | null, threshold: number): void => {
    out.push({ target, value, threshold, met: value !== null && value >= threshold });
  };
  for (const arch of ['cnn', 'scnn2']) {
    for (const r of find(rows, arch, 'wasm')) {
      push(`${arch} wasm batch ${r.batch}: training ratio to the conv2d ceiling >= 0.5`, r.ratio, 0.5);
    }
  }
  const cpuCnn = find(rows, 'cnn', 'cpu')[0];
  for (const r of find(rows, 'cnn', 'wasm')) {
    if (cpuCnn) {
      push(
        `cnn wasm batch ${r.batch} >= 30x cnn cpu (batch ${cpuCnn.batch})`,
        r.images_per_s / cpuCnn.images_per_s,
        30,
      );
    }
  }
  for (const r of find(rows, 'mlp', 'wasm', 64))
    push('mlp wasm batch 64: images/s >= 8000', r.images_per_s, 8000);
  if (twoThreads) push('2 threads >= 1.8x one thread', twoThreads.speedup_2_threads, 1.8);
  if (rows.length > 0) {
    const worst = Math.max(...rows.map((r) => Math.abs(r.tensor_growth)));
    out.push({
      target: 'no tensor leak: tf.memory().numTensors flat across steps (max growth)',
      value: worst,
      threshold: 0,
      met: worst === 0,
    });
  }
  return out;
}

const fmt = (x: number, digits: number): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function printRows(rows: BenchRow[]): void {
  const table = plainTable([
    'arch',
    'backend',
    'batch',
    'steps',
    'step ms',
    'images/s',
    'MFLOP/image',
    'ceiling GFLOP/s',
    'ratio',
    'tensors +',
  ]);
  for (const r of rows) {
    table.push([
      r.arch,
      r.backend,
      String(r.batch),
      String(r.steps),
      fmt(r.median_step_ms, 1),
      fmt(r.images_per_s, r.images_per_s < 10 ? 3 : 1),
      fmt(r.flops_per_image / 1e6, 1),
      fmt(r.ceiling_flops_per_s / 1e9, 2),
      fmt(r.ratio, 3),
      String(r.tensor_growth),
    ]);
  }
  console.log(table.toString());
}

function printProfile(row: BenchRow, p: RowProfile): void {
  const top = p.kernels
    .filter((k) => k.ms_per_step >= 0.01 * p.step_ms)
    .map(
      (k) => `${k.inner ? '  (in) ' : ''}${k.kernel} ${fmt(k.ms_per_step, 1)} x${fmt(k.calls_per_step, 0)}`,
    );
  console.log(
    `profile ${row.arch} ${row.backend} batch ${row.batch}: step ${fmt(p.step_ms, 1)} ms, in kernels ` +
      `${fmt(p.kernel_ms, 1)} ms (${fmt((100 * p.kernel_ms) / p.step_ms, 0)}%); kernels >= 1% of the step, ms/step:\n  ` +
      top.join('\n  '),
  );
}

// ---- main ---------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv);
  const started = new Date();
  const loadStart = loadavg();
  const log = (msg: string): void => {
    process.stderr.write(`bench-train: ${msg}\n`);
  };
  const ds = await loadDataset({ seed: SEED, dataDir: opts.dataDir, log });
  const rows: BenchRow[] = [];
  for (const backend of opts.threadsOnly ? [] : opts.backend) {
    await selectBackend(backend as BackendName);
    const archs = opts.arch ?? (backend === 'cpu' ? DEFAULT_CPU_ARCHS : architectureNames());
    for (const arch of archs) {
      const slowConv = backend === 'cpu' && !DENSE_ARCHS.has(arch);
      const batches = slowConv ? [opts.cpuConvBatch] : opts.batch;
      for (const batch of batches) {
        const plan: StepPlan = slowConv
          ? {
              warmupSteps: 1,
              warmupSeconds: 0,
              minSteps: opts.cpuConvSteps,
              minSeconds: 0,
              maxSteps: opts.cpuConvSteps,
            }
          : {
              warmupSteps: 2,
              warmupSeconds: opts.warmupSeconds,
              minSteps: opts.minSteps,
              minSeconds: opts.minSeconds,
              maxSteps: opts.maxSteps,
            };
        log(`${arch} on ${backend}, batch ${batch} ...`);
        const profile = !slowConv && opts.profile.includes(arch);
        const row = measureRow(arch, backend, batch, ds.train, plan, backend === 'cpu' ? 2 : 32, profile);
        rows.push(row);
        log(
          `  ${fmt(row.images_per_s, 2)} images/s (median of ${row.steps} steps of ${fmt(row.median_step_ms, 1)} ms), ` +
            `ratio ${fmt(row.ratio, 3)}, tensors +${row.tensor_growth}`,
        );
      }
    }
  }
  let twoThreads: TwoThreadResult | null = null;
  if (opts.threads) {
    log(
      `pool: a ${opts.threadsArch} trial (batch ${opts.threadsBatch}, ${opts.threadsTrainSize} images) ` +
        `alone in 1 thread, then 2 at once in 2 threads ...`,
    );
    twoThreads = await measureTwoThreads(opts);
    log(`  speed-up ${fmt(twoThreads.speedup_2_threads, 2)}x`);
  }
  const goals = targets(rows, twoThreads);
  const cpuInfo = cpus();
  const report = {
    date: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: {
      cpu_model: cpuInfo[0]?.model ?? 'unknown',
      cores: cpuInfo.length,
      available_parallelism: availableParallelism(),
      memory_gb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      load_average_start: loadStart,
      load_average_end: loadavg(),
    },
    tfjs: tf.version.tfjs,
    ceiling_layer: {
      ...CEILING_LAYER,
      batch_wasm: 32,
      batch_cpu: 2,
      op: 'tf.conv2d forward, stride 1, same',
    },
    flops_note: 'per image; training = 3 x forward (multiply-add = 2 FLOPs); see bench/train/flops.ts',
    results: rows,
    speedup_2_threads: twoThreads?.speedup_2_threads ?? null,
    two_threads: twoThreads,
    targets: goals,
  };
  const out = resolve(opts.out);
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  printRows(rows);
  for (const r of rows) if (r.profile) printProfile(r, r.profile);
  if (twoThreads) {
    console.log(
      `2 threads: ${twoThreads.arch} trial (batch ${twoThreads.batch}, ${twoThreads.train_size} images + evaluation): ` +
        `alone ${fmt(twoThreads.one_thread_seconds, 1)} s, two at once ${fmt(twoThreads.two_threads_seconds, 1)} s ` +
        `-> speed-up ${fmt(twoThreads.speedup_2_threads, 2)}x (training images/s ${fmt(twoThreads.train_images_per_s_1_thread, 0)} ` +
        `-> ${fmt(twoThreads.train_images_per_s_2_threads, 0)}, ${fmt(twoThreads.train_speedup_2_threads, 2)}x); ` +
        `cores used ${fmt(twoThreads.cores_used_1_thread, 2)} -> ${fmt(twoThreads.cores_used_2_threads, 2)}, ` +
        `CPU-time-normalised speed-up ${fmt(twoThreads.cpu_normalized_speedup_2_threads, 2)}x`,
    );
  }
  for (const g of goals) {
    const value = g.value === null ? 'n/a' : fmt(g.value, g.value >= 100 ? 0 : 2);
    console.log(`${g.met ? 'MET    ' : 'NOT MET'} ${g.target}: ${value}`);
  }
  console.log(
    `machine load average (1 min) ${fmt(loadStart[0], 2)} at the start, ${fmt(loadavg()[0], 2)} at the end`,
  );
  console.log(`JSON: ${out}`);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`bench-train: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
