/**
 * What `hpo worker` does with --backend tensorflow-gpu, --gpus and --slots-per-gpu: memory growth on for
 * every tensorflow-gpu worker (unless TF_FORCE_GPU_ALLOW_GROWTH is set), and a plan of processes. A plan
 * of one process runs in this process (its CUDA_VISIBLE_DEVICES set here, before any pool thread loads
 * libtensorflow); a plan of several makes this process their supervisor.
 */
import type { BackendChoice } from '../../worker/backends/backend.js';
import { GPU_SHARING_ENV, type GpuProcessPlan, planGpuWorkers } from '../../worker/gpu/gpu-plan.js';
import { UsageError } from '../../shared/errors.js';
import type { GpuFlags } from '../options/gpu-options.js';

export interface GpuSetup {
  /** Several processes: this one supervises them. */
  supervise?: GpuProcessPlan[];
  /** Trial threads of this process when it is the plan's only process. */
  threads?: number;
}

/** GPUs named by CUDA_VISIBLE_DEVICES when it is a list of indices; [0] when it is unset. */
function visibleGpus(env: NodeJS.ProcessEnv): number[] {
  const v = env.CUDA_VISIBLE_DEVICES;
  if (v === undefined) return [0];
  if (!/^\d+(,\d+)*$/.test(v.trim())) {
    throw new UsageError(
      `--slots-per-gpu without --gpus: CUDA_VISIBLE_DEVICES=${v} is not a list of GPU indices; name the GPUs with --gpus`,
    );
  }
  return v.trim().split(',').map(Number);
}

export function gpuSetup(
  flags: Omit<GpuFlags, 'gpus'> & { gpus?: number[]; backend: BackendChoice; concurrency?: number },
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): GpuSetup {
  const wantsGpus = flags.gpus !== undefined || flags.slotsPerGpu !== undefined;
  if (wantsGpus && flags.backend !== 'tensorflow-gpu') {
    throw new UsageError(
      `--gpus and --slots-per-gpu need --backend tensorflow-gpu (got --backend ${flags.backend})`,
    );
  }
  if (flags.backend === 'tensorflow-gpu') {
    for (const [key, value] of Object.entries(GPU_SHARING_ENV)) env[key] ??= value;
  }
  if (!wantsGpus) return {};
  const plan = planGpuWorkers({
    gpus: flags.gpus ?? visibleGpus(env),
    slotsPerGpu: flags.slotsPerGpu ?? 1,
    threadsPerProcess: flags.concurrency ?? 1,
    name,
  });
  if (plan.length > 1) return { supervise: plan };
  env.CUDA_VISIBLE_DEVICES = plan[0].env.CUDA_VISIBLE_DEVICES;
  return { threads: plan[0].threads };
}
