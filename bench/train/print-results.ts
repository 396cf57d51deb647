/** bench-train's table and per-kernel profile lines on stdout. */
import { plainTable } from '../../cli/plain-table.js';
import type { BenchRow, RowProfile } from './bench-results.js';

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
