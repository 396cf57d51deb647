/**
 * Where TensorFlow runs this thread's ops. tfjs-node's binding lists the devices of its eager context
 * when it starts and runs every op on the first GPU it finds, else on the CPU; its backend object says
 * which as `isUsingGpuDevice` (tfjs-node's NodeJSKernelBackend). The other backends run on the CPU.
 * No tfjs import here: pool threads that never load tfjs (the synthetic task) read `opsDevice()` too.
 */

/** `gpu` or `cpu`. */
export type OpsDevice = 'gpu' | 'cpu';

let device: OpsDevice | undefined;

/** The device of an active tfjs backend (`tf.getBackend()`, `tf.backend()`); undefined when it cannot say. */
export function deviceOf(tfName: string, backend: unknown): OpsDevice | undefined {
  if (tfName !== 'tensorflow') return 'cpu';
  const flag = (backend as { isUsingGpuDevice?: unknown } | null)?.isUsingGpuDevice;
  if (typeof flag !== 'boolean') return undefined;
  return flag ? 'gpu' : 'cpu';
}

/** Called by selectBackend once a backend is active in this thread. */
export function setOpsDevice(value: OpsDevice | undefined): void {
  device = value;
}

/** This thread's device as last recorded; undefined before a backend was selected here. */
export function opsDevice(): OpsDevice | undefined {
  return device;
}
