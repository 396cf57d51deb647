/** The performance targets bench-train checks its rows against (MET / NOT MET). */
import type { BenchBackend } from './bench-options.js';
import type { BenchRow, Target, TwoThreadResult } from './bench-results.js';
import type { TorchRow } from './torch-compare.js';

/** Issue 28: on one thread, tensorflow against PyTorch CPU in the same run. */
const TORCH_TARGETS: [string, number][] = [
  ['cnn', 1.0],
  ['scnn2', 0.8],
];

export function find(rows: BenchRow[], arch: string, backend: BenchBackend, batch?: number): BenchRow[] {
  return rows.filter(
    (r) => r.arch === arch && r.backend === backend && (batch === undefined || r.batch === batch),
  );
}

export function targets(rows: BenchRow[], twoThreads: TwoThreadResult[], torch: TorchRow[] = []): Target[] {
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
  for (const t of twoThreads) push(`2 threads >= 1.8x one thread (${t.backend})`, t.speedup_2_threads, 1.8);
  for (const [arch, threshold] of TORCH_TARGETS) {
    for (const r of find(rows, arch, 'tensorflow')) {
      const ref = torch.find((t) => t.arch === arch && t.batch === r.batch);
      if (ref) {
        push(
          `${arch} tensorflow batch ${r.batch} >= ${threshold}x PyTorch CPU (one thread)`,
          r.images_per_s / ref.images_per_s,
          threshold,
        );
      }
    }
  }
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
