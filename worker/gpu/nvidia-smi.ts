/**
 * Reads GPU utilisation and memory from `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`:
 * bounded (a timeout, a cap on output and on rows) and never throwing for a bad line (it is skipped).
 */
import { execFile } from 'node:child_process';

export const NVIDIA_SMI_QUERY = 'index,utilization.gpu,memory.used,memory.total';
export const NVIDIA_SMI_ARGS = [`--query-gpu=${NVIDIA_SMI_QUERY}`, '--format=csv,noheader,nounits'];
/** More GPUs than any one machine has: rows past this are ignored. */
export const MAX_GPUS = 64;
const MAX_OUTPUT_BYTES = 64 * 1024;
const MIB = 2 ** 20;

export interface GpuSample {
  /** nvidia-smi's index. */
  index: number;
  /** utilization.gpu as a fraction (0-1) over nvidia-smi's last sample period. */
  utilization: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

/** Why a query gave no samples: `missing` (no such program) or `failed` (timeout, exit code, output). */
export class NvidiaSmiError extends Error {
  constructor(
    message: string,
    readonly kind: 'missing' | 'failed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NvidiaSmiError';
  }
}

function field(text: string | undefined): number {
  const t = (text ?? '').trim();
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
}

/** Parses the CSV lines; a line that is not four plain numbers (e.g. `[N/A]`) is skipped. */
export function parseNvidiaSmi(stdout: string): GpuSample[] {
  const out: GpuSample[] = [];
  for (const line of stdout.split('\n')) {
    if (out.length >= MAX_GPUS) break;
    if (line.trim() === '') continue;
    const [index, util, used, total] = line.split(',').map(field);
    if (![index, util, used, total].every(Number.isFinite) || !Number.isInteger(index)) continue;
    if (index >= MAX_GPUS || util > 100) continue;
    out.push({
      index,
      utilization: util / 100,
      memoryUsedBytes: used * MIB,
      memoryTotalBytes: total * MIB,
    });
  }
  return out;
}

export interface QueryOptions {
  /** Default `nvidia-smi` (found on PATH). */
  command?: string;
  /** Default 5000 ms: the process is killed after this. */
  timeoutMs?: number;
}

/** Runs the query once. Rejects with NvidiaSmiError. */
export function queryNvidiaSmi(options: QueryOptions = {}): Promise<GpuSample[]> {
  const command = options.command ?? 'nvidia-smi';
  const timeout = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    execFile(
      command,
      NVIDIA_SMI_ARGS,
      { timeout, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true },
      (err, stdout) => {
        if (!err) {
          resolve(parseNvidiaSmi(stdout));
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        if (e.code === 'ENOENT') {
          reject(new NvidiaSmiError(`${command} not found`, 'missing', { cause: err }));
        } else if (e.killed) {
          reject(
            new NvidiaSmiError(`${command} did not answer within ${timeout} ms`, 'failed', { cause: err }),
          );
        } else {
          const why = typeof e.code === 'number' ? `exit code ${e.code}` : e.message.split('\n')[0];
          reject(new NvidiaSmiError(`${command} failed: ${why}`, 'failed', { cause: err }));
        }
      },
    );
  });
}
