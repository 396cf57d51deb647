/**
 * `hpo gpu-check`: can this machine run hpo's trials on its GPUs? In under 8 minutes with the defaults:
 * 1. nvidia-smi: the GPUs, driver view of memory;
 * 2. the trainer's step on the cnn for a few hundred steps in this process (images/s, and whether
 *    TensorFlow placed the ops on a GPU);
 * 3. a 20-trial search over NATS served by `hpo worker --gpus ... --slots-per-gpu K` (several trials per
 *    GPU), with nvidia-smi utilisation sampled meanwhile.
 * With another backend, or when TensorFlow finds no GPU, it still runs end to end and says plainly that
 * the figures are not a GPU result.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BackendChoice } from '../../worker/backends/backend.js';
import { loadDataset } from '../../worker/data/dataset.js';
import { silentLogger } from '../../shared/log/index.js';
import { type GpuSample, queryNvidiaSmi } from '../../worker/gpu/nvidia-smi.js';
import { searchCheck, type SearchCheckResult } from './search-check.js';
import { trainCheck, type TrainCheckResult } from './train-check.js';

export interface GpuCheckOptions {
  backend: BackendChoice;
  gpus?: number[];
  slotsPerGpu: number;
  steps: number;
  batch: number;
  arch: string;
  trials: number;
  trainSize: number;
  epochs: number;
  nats?: string;
  dataDir?: string;
  budgetSeconds: number;
  out?: string;
  say: (line: string) => void;
}

export interface GpuCheckReport {
  date: string;
  gpu_result: boolean;
  verdict: string;
  nvidia_smi: GpuSample[] | string;
  train: TrainCheckResult;
  search: SearchCheckResult;
  seconds: number;
  options: Omit<GpuCheckOptions, 'say'>;
}

const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

function verdict(
  o: GpuCheckOptions,
  smi: GpuSample[] | string,
  t: TrainCheckResult,
  s: SearchCheckResult,
): [boolean, string] {
  const problems: string[] = [];
  if (o.backend !== 'tensorflow-gpu') problems.push(`backend ${t.backend}, not tensorflow-gpu`);
  else if (t.device !== 'gpu') problems.push('TensorFlow found no GPU: its ops ran on the CPU');
  if (typeof smi === 'string') problems.push(smi);
  if ((s.device_threads.gpu ?? 0) === 0) problems.push('no trial thread of the search reported ops on a GPU');
  if (s.over_budget) problems.push(`the search did not finish within ${o.budgetSeconds} s`);
  if ((s.trials.completed ?? 0) < o.trials)
    problems.push(`${s.trials.completed ?? 0} of ${o.trials} trials completed`);
  return problems.length === 0
    ? [true, 'GPU result: training ran on the GPU and the search completed']
    : [false, `NOT A GPU RESULT: ${problems.join('; ')}`];
}

export async function gpuCheck(o: GpuCheckOptions): Promise<GpuCheckReport> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'hpo-gpu-check-'));
  try {
    let smi: GpuSample[] | string;
    try {
      smi = await queryNvidiaSmi();
      for (const g of smi)
        o.say(
          `nvidia-smi: GPU ${g.index}: ${pct(g.utilization)} busy, ${gib(g.memoryUsedBytes)} of ${gib(g.memoryTotalBytes)} in use`,
        );
      if (smi.length === 0) smi = 'nvidia-smi lists no GPU';
    } catch (err) {
      smi = err instanceof Error ? err.message : String(err);
      o.say(`nvidia-smi: ${smi}`);
    }
    const gpus = o.gpus ?? (Array.isArray(smi) && smi.length > 0 ? smi.map((g) => g.index) : undefined);
    const ds = await loadDataset({ seed: 1, dataDir: o.dataDir, logger: silentLogger() });
    o.say(`training: ${o.arch}, batch ${o.batch}, ${o.steps} steps on backend ${o.backend} ...`);
    const train = await trainCheck({
      backend: o.backend,
      arch: o.arch,
      steps: o.steps,
      batch: o.batch,
      warmupSteps: 3,
      split: ds.train,
    });
    o.say(
      `training: ${train.images_per_s.toFixed(1)} images/s (${train.steps} steps in ${train.seconds.toFixed(1)} s) on ${train.backend}, ` +
        `ops on ${train.device ?? 'an unknown device'}, mean loss ${train.mean_loss.toFixed(3)}`,
    );
    const budgetMs = Math.max(10_000, o.budgetSeconds * 1000 - (Date.now() - started));
    const search = await searchCheck({
      backend: o.backend,
      gpus,
      slotsPerGpu: o.slotsPerGpu,
      trials: o.trials,
      arch: o.arch,
      trainSize: o.trainSize,
      epochs: o.epochs,
      nats: o.nats,
      dataDir: o.dataDir,
      dir: join(dir, 'search'),
      budgetMs,
      say: o.say,
    });
    o.say(
      `search: ${Object.entries(search.trials)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')} in ${search.seconds.toFixed(1)} s on ${search.slots} slot(s); ` +
        `${search.images_per_s.toFixed(1)} training images/s in all; trial threads by device: ` +
        (Object.entries(search.device_threads)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none reported'),
    );
    for (const g of search.gpu_usage) {
      o.say(
        `search: GPU ${g.gpu}: utilisation mean ${pct(g.mean_utilization)}, peak ${pct(g.max_utilization)}; memory peak ${gib(g.max_memory_used_bytes)} of ${gib(g.memory_total_bytes)} (${g.samples} samples)`,
      );
    }
    const [gpuResult, text] = verdict(o, smi, train, search);
    const { say: _say, ...options } = o;
    const report: GpuCheckReport = {
      date: new Date(started).toISOString(),
      gpu_result: gpuResult,
      verdict: text,
      nvidia_smi: smi,
      train,
      search,
      seconds: (Date.now() - started) / 1000,
      options,
    };
    o.say(`${text} (${report.seconds.toFixed(0)} s in all)`);
    if (o.out) writeFileSync(resolve(o.out), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
