/**
 * Part 2 of `hpo gpu-check`: a real search over NATS served by a real `hpo worker` — with tensorflow-gpu,
 * `--gpus ... --slots-per-gpu K` (one process per GPU and several trials per GPU, as on a GPU node);
 * otherwise a worker with K threads (the degraded run). nats-server is the one given (--nats) or one started
 * here on a free port. It reports trials per state, wall time, training images/s (the worker's own
 * counter, from its /metrics), where the trial threads ran their ops, and nvidia-smi utilisation meanwhile.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HpoError } from '../../shared/errors.js';
import { findExecutable } from '../find-executable.js';
import { ManagedProcess } from '../managed-process.js';
import { type GpuUsage, GpuSampler } from './gpu-sampler.js';

export interface SearchCheckOptions {
  backend: string;
  /** GPUs for the worker's --gpus (tensorflow-gpu only). */
  gpus?: number[];
  slotsPerGpu: number;
  trials: number;
  arch: string;
  trainSize: number;
  epochs: number;
  /** A NATS server to use instead of starting one. */
  nats?: string;
  dataDir?: string;
  /** Scratch folder: sweep file, database, logs, JetStream store. */
  dir: string;
  /** The search is stopped (and the check fails) past this. */
  budgetMs: number;
  say: (line: string) => void;
}

export interface SearchCheckResult {
  trials: Record<string, number>;
  seconds: number;
  train_images: number;
  images_per_s: number;
  slots: number;
  device_threads: Record<string, number>;
  gpu_usage: GpuUsage[];
  over_budget: boolean;
}

const hpoArgs = (args: string[]) => [...process.execArgv, process.argv[1], ...args];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function sweep(o: SearchCheckOptions): string {
  return [
    'description: hpo gpu-check search',
    'method: random',
    'metric: {name: val_acc, goal: maximize}',
    'task: multi-digit-mnist',
    'seed: 1',
    `run_cap: ${o.trials}`,
    'data: {seed: 1}',
    'parameters:',
    `  arch: {value: ${o.arch}}`,
    '  optimizer: {values: [adam, rmsprop]}',
    '  learning_rate: {distribution: log_uniform_values, min: 0.0003, max: 0.003}',
    '  batch_size: {value: 64}',
    `  epochs: {value: ${o.epochs}}`,
    `  train_size: {value: ${o.trainSize}}`,
    '',
  ].join('\n');
}

async function waitFor(
  what: string,
  proc: ManagedProcess,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  for (
    const deadline = Date.now() + 60_000;
    Date.now() < deadline;
    await new Promise((r) => setTimeout(r, 200))
  ) {
    if (!proc.running)
      throw new HpoError(
        `${proc.name} exited while waiting for ${what} (log ${proc.logFile}):\n${proc.lastOutput()}`,
      );
    if (await check()) return;
  }
  throw new HpoError(`timed out waiting for ${what} (log ${proc.logFile}):\n${proc.lastOutput()}`);
}

async function startNats(o: SearchCheckOptions, procs: ManagedProcess[]): Promise<string> {
  if (o.nats) return o.nats;
  const bin = findExecutable('nats-server');
  if (!bin) {
    throw new HpoError(
      'the search part needs nats-server (Debian/Ubuntu: apt-get install -y nats-server) or --nats URL',
    );
  }
  const port = await freePort();
  const nats = new ManagedProcess({
    name: 'nats-server',
    bin,
    args: ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(o.dir, 'jetstream')],
    logFile: join(o.dir, 'nats-server.log'),
  });
  procs.push(nats);
  await waitFor('nats-server', nats, () => /Server is ready/.test(nats.lastOutput(50)));
  return `nats://127.0.0.1:${port}`;
}

/** Sums of the samples named `name` in Prometheus text, by one label's value. */
function sumBy(text: string, name: string, label?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const key = label ? (new RegExp(`${label}="([^"]*)"`).exec(line)?.[1] ?? '') : '';
    out[key] = (out[key] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

/** A started `hpo worker` and its /metrics, once its slots are up. */
interface CheckWorker {
  worker: ManagedProcess;
  scrape: () => Promise<string>;
  slots: number;
}

async function startWorker(
  o: SearchCheckOptions,
  url: string,
  procs: ManagedProcess[],
): Promise<CheckWorker> {
  const gpuFlags =
    o.backend === 'tensorflow-gpu' && o.gpus
      ? ['--gpus', o.gpus.join(','), '--slots-per-gpu', String(o.slotsPerGpu)]
      : ['--concurrency', String(o.slotsPerGpu)];
  const data = o.dataDir ? ['--data-dir', o.dataDir] : [];
  const worker = new ManagedProcess({
    name: 'hpo worker',
    bin: process.execPath,
    args: hpoArgs([
      'worker',
      '--nats',
      url,
      '--backend',
      o.backend,
      '--name',
      'gpu-check',
      '--metrics-port',
      '0',
      ...gpuFlags,
      ...data,
    ]),
    logFile: join(o.dir, 'worker.log'),
  });
  procs.push(worker);
  let metricsUrl = '';
  await waitFor('the worker', worker, () => {
    metricsUrl = /metrics: (http:\/\/\S+\/metrics)/.exec(worker.lastOutput(200))?.[1] ?? '';
    return metricsUrl !== '';
  });
  const scrape = async () => (await fetch(metricsUrl)).text();
  await waitFor(
    'the worker slots',
    worker,
    async () => (sumBy(await scrape(), 'hpo_worker_slots')[''] ?? 0) > 0,
  );
  const slots = sumBy(await scrape(), 'hpo_worker_slots')[''] ?? 0;
  return { worker, scrape, slots };
}

/** Runs `hpo search` of the check's sweep to its end (stopped past the budget); its exit and wall time. */
async function runSearch(
  o: SearchCheckOptions,
  url: string,
  procs: ManagedProcess[],
): Promise<{ search: ManagedProcess; exit: Awaited<ManagedProcess['exited']>; seconds: number }> {
  const file = join(o.dir, 'gpu-check.yaml');
  writeFileSync(file, sweep(o));
  const started = Date.now();
  const search = new ManagedProcess({
    name: 'hpo search',
    bin: process.execPath,
    args: hpoArgs([
      'search',
      file,
      '--name',
      'gpu-check',
      '--db',
      join(o.dir, 'gpu-check.db'),
      '--nats',
      url,
      '--json',
    ]),
    logFile: join(o.dir, 'search.log'),
  });
  procs.push(search);
  const timer = setTimeout(() => void search.stop(5000), o.budgetMs);
  const exit = await search.exited;
  clearTimeout(timer);
  return { search, exit, seconds: (Date.now() - started) / 1000 };
}

export async function searchCheck(o: SearchCheckOptions): Promise<SearchCheckResult> {
  mkdirSync(o.dir, { recursive: true });
  const procs: ManagedProcess[] = [];
  try {
    const url = await startNats(o, procs);
    const { scrape, slots } = await startWorker(o, url, procs);
    o.say(
      `search: ${o.trials} ${o.arch} trials (${o.trainSize} images x ${o.epochs} epoch(s)) on ${slots} slot(s), backend ${o.backend}`,
    );
    const sampler = new GpuSampler(o.gpus);
    const { search, exit, seconds } = await runSearch(o, url, procs);
    const gpuUsage = sampler.stop();
    const text = await scrape();
    const images = sumBy(text, 'hpo_worker_train_images_total')[''] ?? 0;
    const trials = sumBy(text, 'hpo_worker_trials_total', 'state');
    const overBudget = seconds * 1000 >= o.budgetMs;
    if (exit.code !== 0 && !overBudget) {
      throw new HpoError(
        `hpo search exited with ${exit.code ?? exit.signal} (log ${search.logFile}):\n${search.lastOutput()}`,
      );
    }
    return {
      trials,
      seconds,
      train_images: images,
      images_per_s: images / seconds,
      slots,
      device_threads: sumBy(text, 'hpo_worker_device_threads', 'device'),
      gpu_usage: gpuUsage,
      over_budget: overBudget,
    };
  } finally {
    for (const p of procs.reverse()) await p.stop(30_000);
  }
}
