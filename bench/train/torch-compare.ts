/** `--compare-torch PYTHON`: the same models and step on PyTorch CPU, one thread (torch-step.py). */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StepPlan } from './measure-row.js';

export interface TorchRow {
  arch: string;
  batch: number;
  images_per_s: number;
  median_step_ms: number;
  steps: number;
  warmup_steps: number;
}

export interface TorchResult {
  torch: string;
  threads: number;
  rows: TorchRow[];
}

/** dist/bench/train/ -> the source folder, where the Python file stays. */
const SCRIPT = fileURLToPath(new URL('../../../bench/train/torch-step.py', import.meta.url));

/** Times `arch` at `batches` on PyTorch with `python`; throws saying why when it cannot. */
export function measureTorch(python: string, arch: string, batches: number[], plan: StepPlan): TorchResult {
  const args = [
    SCRIPT,
    '--arch',
    arch,
    '--batch',
    batches.join(','),
    '--threads',
    '1',
    '--warmup-seconds',
    String(plan.warmupSeconds),
    '--min-seconds',
    String(plan.minSeconds),
    '--min-steps',
    String(plan.minSteps),
    '--max-steps',
    String(plan.maxSteps),
  ];
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.error) throw new Error(`--compare-torch: cannot run ${python}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').slice(-1)[0] ?? '';
    throw new Error(`--compare-torch: ${python} ${SCRIPT} exited with ${r.status}: ${why}`);
  }
  const last = r.stdout.trim().split('\n').slice(-1)[0];
  return JSON.parse(last) as TorchResult;
}
