/**
 * The per-architecture rows of bench-train: architecture by architecture, each on every backend asked
 * for and then on PyTorch (--compare-torch), so that the rows compared with each other are measured
 * within seconds of each other on a shared machine.
 */
import { type BackendName, selectBackend } from '../../worker/backends/backend.js';
import { applyNativeThreadShare } from '../../worker/backends/native-threads.js';
import type { Split } from '../../worker/data/types.js';
import { architectureNames } from '../../worker/models/registry.js';
import {
  type BenchBackend,
  type BenchTrainOptions,
  DEFAULT_CPU_ARCHS,
  DENSE_ARCHS,
} from './bench-options.js';
import type { BenchRow } from './bench-results.js';
import { type StepPlan, measureRow } from './measure-row.js';
import { fmt } from './print-results.js';
import { type TorchResult, type TorchRow, measureTorch } from './torch-compare.js';

export interface MeasuredRows {
  rows: BenchRow[];
  torch: (TorchResult & { rows: TorchRow[] }) | null;
  /** Backends asked for that could not load, and why. */
  skipped: { backend: BenchBackend; error: string }[];
}

/**
 * One thread per trial, as wasm and PyTorch here: TensorFlow's settings must be in the environment
 * before the binding loads, and stay for the pool measurement of this process (native-threads.ts).
 */
export function oneNativeThread(): void {
  applyNativeThreadShare(1, { cores: 1 });
}

function planFor(opts: BenchTrainOptions, slowConv: boolean): StepPlan {
  return slowConv
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
}

export async function measureRows(
  opts: BenchTrainOptions,
  train: Split,
  log: (msg: string) => void,
): Promise<MeasuredRows> {
  const out: MeasuredRows = { rows: [], torch: null, skipped: [] };
  const usable = new Set<BenchBackend>();
  for (const backend of opts.backend) {
    try {
      if (backend === 'tensorflow') oneNativeThread();
      await selectBackend(backend as BackendName);
      usable.add(backend);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      out.skipped.push({ backend, error });
      log(`backend ${backend} skipped: ${error}`);
    }
  }
  const archsOf = (b: BenchBackend): string[] =>
    opts.arch ?? (b === 'cpu' ? DEFAULT_CPU_ARCHS : architectureNames());
  const archs = [...new Set(opts.backend.flatMap(archsOf))];
  for (const arch of archs) {
    for (const backend of opts.backend.filter((b) => usable.has(b) && archsOf(b).includes(arch))) {
      await selectBackend(backend as BackendName);
      const slowConv = backend === 'cpu' && !DENSE_ARCHS.has(arch);
      for (const batch of slowConv ? [opts.cpuConvBatch] : opts.batch) {
        log(`${arch} on ${backend}, batch ${batch} ...`);
        const profile = !slowConv && opts.profile.includes(arch);
        const plan = planFor(opts, slowConv);
        const row = measureRow(arch, backend, batch, train, plan, backend === 'cpu' ? 2 : 32, profile);
        out.rows.push(row);
        log(
          `  ${fmt(row.images_per_s, 2)} images/s (median of ${row.steps} steps of ${fmt(row.median_step_ms, 1)} ms), ` +
            `ratio ${fmt(row.ratio, 3)}, tensors +${row.tensor_growth}`,
        );
      }
    }
    if (opts.compareTorch !== undefined) {
      log(`${arch} on PyTorch, batch ${opts.batch.join(', ')} ...`);
      const t = measureTorch(opts.compareTorch, arch, opts.batch, planFor(opts, false));
      out.torch = { torch: t.torch, threads: t.threads, rows: [...(out.torch?.rows ?? []), ...t.rows] };
      for (const r of t.rows) log(`  batch ${r.batch}: ${fmt(r.images_per_s, 2)} images/s`);
    }
  }
  return out;
}
