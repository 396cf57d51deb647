/** `hpo worker --gpus` and `--slots-per-gpu`: which GPUs this machine's worker uses, and how many trials share each. */
import { InvalidArgumentError } from 'commander';
import { MAX_GPUS } from '../../worker/gpu/nvidia-smi.js';

export interface GpuFlags {
  gpus?: number[];
  slotsPerGpu?: number;
}

function index(text: string): number {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n >= MAX_GPUS) {
    throw new InvalidArgumentError(`'${text}' is not a GPU index (0-${MAX_GPUS - 1}).`);
  }
  return n;
}

/**
 * `2`: a count (GPUs 0 and 1); `0,2`: these indices; `device=3` or `device=1,3`: these indices (one GPU
 * by index needs this form, as `3` alone is a count). Indices are nvidia-smi's.
 */
export function gpuList(value: string): number[] {
  const v = value.trim();
  const listed = v.startsWith('device=') ? v.slice('device='.length) : v.includes(',') ? v : undefined;
  if (listed === undefined) {
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_GPUS) {
      throw new InvalidArgumentError(
        `expected a GPU count (1-${MAX_GPUS}), indices such as 0,2, or device=N for one GPU by index.`,
      );
    }
    return Array.from({ length: n }, (_, i) => i);
  }
  const parts = listed.split(',');
  if (parts.some((p) => p.trim() === '')) throw new InvalidArgumentError('expected indices such as 0,2.');
  const gpus = parts.map(index);
  if (new Set(gpus).size !== gpus.length) throw new InvalidArgumentError(`GPU listed twice in '${value}'.`);
  return gpus;
}
