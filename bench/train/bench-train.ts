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
import { type BackendName, selectBackend } from '../../worker/backends/backend.js';
import { loadDataset } from '../../worker/data/dataset.js';
import { architectureNames } from '../../worker/models/registry.js';
import { DEFAULT_CPU_ARCHS, DENSE_ARCHS, SEED, parseOptions } from './bench-options.js';
import type { BenchRow, TwoThreadResult } from './bench-results.js';
import { CEILING_LAYER } from './ceiling-sampler.js';
import { type StepPlan, measureRow } from './measure-row.js';
import { fmt, printProfile, printRows } from './print-results.js';
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
        `-> ${fmt(twoThreads.train_images_per_s_2_threads, 0)}, ${fmt(twoThreads.train_speedup_2_threads, 2)}x; ` +
        `evaluation images/s ${fmt(twoThreads.eval_images_per_s_1_thread, 0)} -> ` +
        `${fmt(twoThreads.eval_images_per_s_2_threads, 0)}, ${fmt(twoThreads.eval_speedup_2_threads, 2)}x); ` +
        `cores used ${fmt(twoThreads.cores_used_1_thread, 2)} -> ${fmt(twoThreads.cores_used_2_threads, 2)}, ` +
        `CPU-time-normalised speed-up ${fmt(twoThreads.cpu_normalized_speedup_2_threads, 2)}x`,
    );
    for (const [phase, p] of Object.entries(twoThreads.phases)) {
      console.log(
        `  ${phase.replace('_seconds', '').padEnd(10)} alone ${fmt(p.seconds_1_thread, 2)} s, ` +
          `in the pair ${fmt(p.seconds_2_threads, 2)} s -> ${fmt(p.speedup_2_threads, 2)}x ` +
          `(CPU-time-normalised ${fmt(p.cpu_normalized_speedup_2_threads, 2)}x)`,
      );
    }
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
