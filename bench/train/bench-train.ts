/**
 * Training-throughput benchmark: `npm run bench:train -- [--out FILE.json] [--arch a,b] [--backend
 * wasm,tensorflow,cpu] [--batch 32,64] [--compare-torch PYTHON] ...` (all options: `--help`).
 *
 * Per architecture, backend and batch size it times the trainer's own step (makeBatch from the real
 * training split, optimizer.minimize over model.apply(x, {training: true}) and the two softmax
 * cross-entropies, adam) after a warm-up, and reports the median step as images/s, next to the model's
 * FLOPs per training image (flops.ts) and a ceiling measured in the same run, between the row's
 * timed steps: the backend's forward conv2d FLOP rate on a representative layer (the cnn's second
 * conv: 42x28, 32->64 channels, 3x3, same). ratio = images/s * FLOPs per image / ceiling.
 * tf.memory().numTensors is read after the warm-up and after the timed steps: a growth is a leak.
 * For some architectures (--profile) a few more steps are timed per kernel (kernel-profile.ts).
 * Rows go architecture by architecture (each on every backend, then PyTorch with --compare-torch),
 * all on one thread: tensorflow with 1 intra-op thread (native-threads.ts), PyTorch with
 * torch.set_num_threads(1) (torch-step.py). A backend that does not load is skipped, saying why.
 *
 * Then, per --threads-backend, it runs the same multi-digit-mnist trial alone in a 1-thread TrialPool
 * and twice at once in a 2-thread pool, in the order 1, 2, 2, 1, and reports the speed-up (2 * one
 * trial's wall time / the pair's wall time), with the cores the process actually got.
 *
 * Writes a table to stdout and JSON to --out: { results: [{arch, backend, batch, images_per_s,
 * flops_per_image, ceiling_flops_per_s, ratio, ...}], torch, two_threads: [{backend, ...}],
 * speedup_2_threads: {backend: x}, skipped, machine, tfjs, date, ... }.
 * Speed is noisy on a shared machine: compare rows of one run, not runs.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { NATIVE_THREAD_VARIABLES } from '../../worker/backends/native-threads.js';
import { loadDataset } from '../../worker/data/dataset.js';
import { SEED, parseOptions } from './bench-options.js';
import type { TwoThreadResult } from './bench-results.js';
import { CEILING_LAYER } from './ceiling-sampler.js';
import { type MeasuredRows, measureRows, oneNativeThread } from './measure-rows.js';
import { fmt, printProfile, printRows, printTorchComparison, printTwoThreads } from './print-results.js';
import { targets } from './targets.js';
import { measureTwoThreads } from './two-threads.js';

async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv);
  const started = new Date();
  const loadStart = loadavg();
  const log = (msg: string): void => {
    process.stderr.write(`bench-train: ${msg}\n`);
  };
  const ds = await loadDataset({ seed: SEED, dataDir: opts.dataDir });
  const measured: MeasuredRows = opts.threadsOnly
    ? { rows: [], torch: null, skipped: [] }
    : await measureRows(opts, ds.train, log);
  const rows = measured.rows;
  const twoThreads: TwoThreadResult[] = [];
  for (const backend of opts.threads ? opts.threadsBackend : []) {
    if (measured.skipped.some((s) => s.backend === backend)) continue;
    log(
      `pool (${backend}): a ${opts.threadsArch} trial (batch ${opts.threadsBatch}, ${opts.threadsTrainSize} images) ` +
        `alone in 1 thread, then 2 at once in 2 threads ...`,
    );
    if (backend === 'tensorflow') oneNativeThread();
    try {
      const t = await measureTwoThreads(opts, backend);
      twoThreads.push(t);
      log(`  speed-up ${fmt(t.speedup_2_threads, 2)}x`);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      measured.skipped.push({ backend, error: `pool: ${error}` });
      log(`  pool on ${backend} skipped: ${error}`);
    }
  }
  const goals = targets(rows, twoThreads, measured.torch?.rows ?? []);
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
    tensorflow_threads: Object.fromEntries(NATIVE_THREAD_VARIABLES.map((k) => [k, process.env[k] ?? null])),
    skipped: measured.skipped,
    ceiling_layer: {
      ...CEILING_LAYER,
      batch_wasm: 32,
      batch_cpu: 2,
      op: 'tf.conv2d forward, stride 1, same',
    },
    flops_note: 'per image; training = 3 x forward (multiply-add = 2 FLOPs); see bench/train/flops.ts',
    results: rows,
    torch: measured.torch,
    speedup_2_threads: Object.fromEntries(twoThreads.map((t) => [t.backend, t.speedup_2_threads])),
    two_threads: twoThreads,
    targets: goals,
  };
  const out = resolve(opts.out);
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  printRows(rows);
  for (const r of rows) if (r.profile) printProfile(r, r.profile);
  if (measured.torch) printTorchComparison(rows, measured.torch.rows);
  for (const t of twoThreads) printTwoThreads(t);
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
