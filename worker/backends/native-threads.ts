/**
 * TensorFlow's own threads when trials run on libtensorflow (tfjs-node) in several pool threads.
 *
 * Each Node thread that loads tfjs-node's binding gets its own eager context (TFE_Context). TensorFlow
 * reads its thread settings from the process environment once, when the first context of the process
 * is created (process_util.cc, local_device.cc), so they must be in the environment before any thread
 * loads the binding; a worker thread's `process.env` is its own copy, so only the main thread can set
 * them:
 * - `TF_NUM_INTRAOP_THREADS`: threads that split one op (a conv, a matmul); the calling thread works
 *   too, and with 1 the op runs in the calling thread alone.
 * - `TF_OVERRIDE_GLOBAL_THREADPOOL=1`: each context owns its intra-op pool. Without it every context
 *   of the process shares one pool, sized by the first.
 * - `TF_NUM_INTEROP_THREADS`: the context's pool for running independent ops at once; tfjs runs one
 *   op at a time, so 1.
 * With N trial threads on C cores each trial thread gets max(1, floor(C / N)) intra-op threads: the
 * trials together use the cores once, not N times (docs/PERFORMANCE.md has the measurements).
 */
import { availableParallelism } from 'node:os';
import type { Logger } from '../../shared/log/index.js';

export const NATIVE_THREAD_VARIABLES = [
  'TF_NUM_INTRAOP_THREADS',
  'TF_NUM_INTEROP_THREADS',
  'TF_OVERRIDE_GLOBAL_THREADPOOL',
] as const;
export type NativeThreadVariable = (typeof NATIVE_THREAD_VARIABLES)[number];

export interface NativeThreadShareOptions {
  /** Cores to share (default: os.availableParallelism()). */
  cores?: number;
  /** The environment to read and set (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where to say (warn) that a share cannot apply. Default: nowhere. */
  logger?: Logger;
}

/** The settings for `threads` trial threads on `cores` cores. */
export function nativeThreadShare(threads: number, cores: number): Record<NativeThreadVariable, string> {
  return {
    TF_NUM_INTRAOP_THREADS: String(Math.max(1, Math.floor(cores / Math.max(1, threads)))),
    TF_NUM_INTEROP_THREADS: '1',
    TF_OVERRIDE_GLOBAL_THREADPOOL: '1',
  };
}

/** What this process set first: TensorFlow keeps the first settings it reads. */
let applied: Record<NativeThreadVariable, string> | undefined;

/**
 * Puts the share for `threads` trial threads into the environment, before any thread loads the binding.
 * A variable the user already set is kept (theirs wins). Returns the settings in force. Calling it again
 * with another share in the same process changes nothing TensorFlow already read: it warns instead.
 */
export function applyNativeThreadShare(
  threads: number,
  options: NativeThreadShareOptions = {},
): Record<NativeThreadVariable, string> {
  const env = options.env ?? process.env;
  const wanted = nativeThreadShare(threads, options.cores ?? availableParallelism());
  const useGlobal = env === process.env;
  if (useGlobal && applied !== undefined) {
    if (applied.TF_NUM_INTRAOP_THREADS !== wanted.TF_NUM_INTRAOP_THREADS) {
      options.logger?.warn(
        { applied, wanted },
        `TensorFlow threads: this process already set ${applied.TF_NUM_INTRAOP_THREADS} intra-op thread(s) ` +
          `per trial thread; the share for ${threads} trial threads (${wanted.TF_NUM_INTRAOP_THREADS}) cannot apply`,
      );
    }
    return { ...applied };
  }
  const inForce = {} as Record<NativeThreadVariable, string>;
  for (const name of NATIVE_THREAD_VARIABLES) {
    const own = env[name];
    if (own === undefined || own === '') env[name] = wanted[name];
    inForce[name] = env[name] as string;
  }
  if (useGlobal) applied = { ...inForce };
  return inForce;
}
