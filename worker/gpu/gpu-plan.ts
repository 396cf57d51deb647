/**
 * How `hpo worker --gpus ... --slots-per-gpu K` spreads trial slots over processes. CUDA decides which
 * GPUs a process sees once, from `CUDA_VISIBLE_DEVICES`, when libtensorflow first touches CUDA: the
 * variable is per process, never per thread, so each GPU gets its own worker process(es), and the K slots
 * of a GPU are threads of its process (`threadsPerProcess`, the worker's --concurrency) or, beyond that,
 * more processes on the same GPU. TensorFlow's memory growth (`TF_FORCE_GPU_ALLOW_GROWTH=true`) lets
 * those processes share the GPU's memory instead of the first one taking it all.
 */

/** Environment every process of a tensorflow-gpu worker gets (unless the operator set it). */
export const GPU_SHARING_ENV = { TF_FORCE_GPU_ALLOW_GROWTH: 'true' } as const;

export interface GpuPlanOptions {
  /** GPU indices (nvidia-smi's numbering), in order. */
  gpus: readonly number[];
  /** Trials that share each GPU at once. */
  slotsPerGpu: number;
  /** Trial threads in one worker process. */
  threadsPerProcess: number;
  /** The worker's name: process names derive from it. */
  name: string;
}

export interface GpuProcessPlan {
  gpu: number;
  /** `<name>/gpu<i>`, or `<name>/gpu<i>.<k>` when a GPU has several processes. */
  name: string;
  /** Trial threads of this process. */
  threads: number;
  /** What this process's environment adds: the GPU it sees, and memory growth. */
  env: { CUDA_VISIBLE_DEVICES: string; TF_FORCE_GPU_ALLOW_GROWTH: string };
}

/** One entry per worker process: ceil(slotsPerGpu / threadsPerProcess) per GPU. */
export function planGpuWorkers(options: GpuPlanOptions): GpuProcessPlan[] {
  const { gpus, slotsPerGpu, threadsPerProcess, name } = options;
  for (const [what, n] of [
    ['slotsPerGpu', slotsPerGpu],
    ['threadsPerProcess', threadsPerProcess],
  ] as const) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be an integer >= 1, got ${n}`);
  }
  if (gpus.length === 0) throw new RangeError('no GPUs to plan for');
  if (new Set(gpus).size !== gpus.length) throw new RangeError(`GPU listed twice: ${gpus.join(',')}`);
  const perGpu = Math.ceil(slotsPerGpu / threadsPerProcess);
  const plan: GpuProcessPlan[] = [];
  for (const gpu of gpus) {
    let left = slotsPerGpu;
    for (let k = 0; k < perGpu; k++) {
      const threads = Math.min(threadsPerProcess, left);
      left -= threads;
      plan.push({
        gpu,
        name: perGpu === 1 ? `${name}/gpu${gpu}` : `${name}/gpu${gpu}.${k}`,
        threads,
        env: { CUDA_VISIBLE_DEVICES: String(gpu), ...GPU_SHARING_ENV },
      });
    }
  }
  return plan;
}
