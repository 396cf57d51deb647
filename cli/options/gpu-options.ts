/** `hpo worker --gpus` and `--slots-per-gpu`: which GPUs this machine's worker uses, and how many trials share each. */
import { InvalidArgumentError } from 'commander';
import { MAX_GPUS, queryNvidiaSmi } from '../../worker/gpu/nvidia-smi.js';
import { UsageError } from '../../shared/errors.js';

export interface GpuFlags {
  /** `all`: every GPU nvidia-smi lists (resolved by resolveAllGpus before use). */
  gpus?: number[] | 'all';
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
 * by index needs this form, as `3` alone is a count); `all`: every GPU nvidia-smi lists. Indices are
 * nvidia-smi's.
 */
export function gpuListOrAll(value: string): number[] | 'all' {
  return value.trim() === 'all' ? 'all' : gpuList(value);
}

/** gpuListOrAll without `all`. */
export function gpuList(value: string): number[] {
  const v = value.trim();
  const listed = v.startsWith('device=') ? v.slice('device='.length) : v.includes(',') ? v : undefined;
  if (listed === undefined) {
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_GPUS) {
      throw new InvalidArgumentError(
        `expected a GPU count (1-${MAX_GPUS}), indices such as 0,2, device=N for one GPU by index, or all.`,
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

/** `--gpus all`: the indices nvidia-smi lists now; a usage error when it cannot say. */
export async function resolveAllGpus(command?: string): Promise<number[]> {
  let samples;
  try {
    samples = await queryNvidiaSmi({ command });
  } catch (err) {
    throw new UsageError(
      `--gpus all: ${err instanceof Error ? err.message : String(err)}; name the GPUs instead`,
      {
        cause: err,
      },
    );
  }
  if (samples.length === 0) throw new UsageError('--gpus all: nvidia-smi lists no GPU');
  return samples.map((s) => s.index);
}
