/** bench-train's table and per-kernel profile lines on stdout. */
import { plainTable } from '../../cli/plain-table.js';
import type { BenchRow, RowProfile, TwoThreadResult } from './bench-results.js';
import type { TorchRow } from './torch-compare.js';

export const fmt = (x: number, digits: number): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function printRows(rows: BenchRow[]): void {
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

export function printProfile(row: BenchRow, p: RowProfile): void {
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

/** Images/s per architecture and batch on each backend and PyTorch, with the ratios to PyTorch. */
export function printTorchComparison(rows: BenchRow[], torch: TorchRow[]): void {
  const table = plainTable([
    'arch',
    'batch',
    'wasm',
    'tensorflow',
    'PyTorch',
    'tensorflow / PyTorch',
    'wasm / PyTorch',
  ]);
  const rate = (arch: string, backend: string, batch: number): number | undefined =>
    rows.find((r) => r.arch === arch && r.backend === backend && r.batch === batch)?.images_per_s;
  const cell = (x: number | undefined, digits: number): string => (x === undefined ? '-' : fmt(x, digits));
  for (const t of torch) {
    const w = rate(t.arch, 'wasm', t.batch);
    const tf = rate(t.arch, 'tensorflow', t.batch);
    table.push([
      t.arch,
      String(t.batch),
      cell(w, 1),
      cell(tf, 1),
      fmt(t.images_per_s, 1),
      cell(tf === undefined ? undefined : tf / t.images_per_s, 2),
      cell(w === undefined ? undefined : w / t.images_per_s, 2),
    ]);
  }
  console.log(table.toString());
}

export function printTwoThreads(t: TwoThreadResult): void {
  console.log(
    `2 threads (${t.backend}): ${t.arch} trial (batch ${t.batch}, ${t.train_size} images + evaluation): ` +
      `alone ${fmt(t.one_thread_seconds, 1)} s, two at once ${fmt(t.two_threads_seconds, 1)} s ` +
      `-> speed-up ${fmt(t.speedup_2_threads, 2)}x (training images/s ${fmt(t.train_images_per_s_1_thread, 0)} ` +
      `-> ${fmt(t.train_images_per_s_2_threads, 0)}, ${fmt(t.train_speedup_2_threads, 2)}x; ` +
      `evaluation images/s ${fmt(t.eval_images_per_s_1_thread, 0)} -> ` +
      `${fmt(t.eval_images_per_s_2_threads, 0)}, ${fmt(t.eval_speedup_2_threads, 2)}x); ` +
      `cores used ${fmt(t.cores_used_1_thread, 2)} -> ${fmt(t.cores_used_2_threads, 2)}, ` +
      `CPU-time-normalised speed-up ${fmt(t.cpu_normalized_speedup_2_threads, 2)}x`,
  );
  for (const [phase, p] of Object.entries(t.phases)) {
    console.log(
      `  ${phase.replace('_seconds', '').padEnd(10)} alone ${fmt(p.seconds_1_thread, 2)} s, ` +
        `in the pair ${fmt(p.seconds_2_threads, 2)} s -> ${fmt(p.speedup_2_threads, 2)}x ` +
        `(CPU-time-normalised ${fmt(p.cpu_normalized_speedup_2_threads, 2)}x)`,
    );
  }
}
