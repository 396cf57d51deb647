/**
 * Per-kernel wall time of some work on one backend: every kernel registered for the backend is
 * wrapped with a timer for the duration of `profileKernels`, then the original registrations are
 * put back. Kernels that run other kernels (the wasm gradient kernels are compositions) are timed
 * themselves, and the kernels they run are counted apart as `inner` (their time is part of the
 * outer kernel's): the top-level total is the step's kernel time without double counting.
 */
import * as tf from '@tensorflow/tfjs';

export interface KernelTime {
  kernel: string;
  /** True for kernels run from inside another kernel. */
  inner: boolean;
  ms: number;
  calls: number;
}

export interface KernelProfile {
  /** Wall time of `work`, in ms. */
  totalMs: number;
  /** Time in top-level kernels, in ms (the rest is JavaScript: the engine, tape, layers, optimizer). */
  kernelMs: number;
  kernels: KernelTime[];
}

/** Runs `work` with every `backendName` kernel timed; kernels sorted by time, largest first. */
export function profileKernels(backendName: string, work: () => void): KernelProfile {
  const configs = tf.getKernelsForBackend(backendName);
  const times = new Map<string, KernelTime>();
  let depth = 0;
  for (const config of configs) {
    const { kernelName, kernelFunc } = config;
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const inner = depth > 0;
        const t0 = performance.now();
        depth++;
        try {
          return kernelFunc(args);
        } finally {
          depth--;
          const key = `${inner ? '1' : '0'}${kernelName}`;
          const entry = times.get(key) ?? { kernel: kernelName, inner, ms: 0, calls: 0 };
          entry.ms += performance.now() - t0;
          entry.calls++;
          times.set(key, entry);
        }
      },
    });
  }
  const t0 = performance.now();
  try {
    work();
  } finally {
    for (const config of configs) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
  const totalMs = performance.now() - t0;
  const kernels = [...times.values()].sort((a, b) => b.ms - a.ms);
  const kernelMs = kernels.filter((k) => !k.inner).reduce((s, k) => s + k.ms, 0);
  return { totalMs, kernelMs, kernels };
}
