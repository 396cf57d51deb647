/**
 * Keeps tfjs-node's N-API binding loaded for the life of the process once a pool may use it.
 *
 * Node unloads an addon (dlclose) when the last thread that loaded it ends. A pool thread that ends
 * (idle timeout, a cancelled trial, a closed pool) can be the last: the binding is unloaded while
 * libtensorflow, which it calls into, stays. In stress runs (test/native/pool-stress.ts) 2 of 20
 * processes then died of SIGSEGV at exit, in an exit handler whose code was no longer mapped. Loading
 * the binding once in the main thread with RTLD_NODELETE keeps it (and its exit handlers) mapped;
 * the pool threads' own loads then share it. It costs one idle TensorFlow context in the main thread.
 */
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

/** glibc's RTLD_NODELETE (not in os.constants.dlopen). */
const RTLD_NODELETE = 0x1000;

const pinned = new Set<string>();

/** The built binding of `pkg`, or undefined when the package or its binding is missing. */
export function nativeBindingPath(pkg: string): string | undefined {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
  const file = join(dir, 'lib', 'napi-v8', 'tfjs_binding.node');
  return existsSync(file) ? file : undefined;
}

/**
 * Loads `pkg`'s binding in this (main) thread so that it is never unloaded. Linux only (elsewhere, and
 * when the binding is missing, it does nothing). Returns the pinned file, if any. Call it after the
 * TensorFlow thread settings are in the environment (native-threads.ts): loading creates a context.
 */
export function pinNativeBinding(pkg: string): string | undefined {
  if (process.platform !== 'linux' || !isMainThread) return undefined;
  const file = nativeBindingPath(pkg);
  if (file === undefined || pinned.has(file)) return file;
  // Loaded here already (this thread imported tfjs-node): it stays as long as the main thread does, and
  // a second load would initialise the binding again for this thread, replacing its tensors' backend.
  const loaded = createRequire(import.meta.url).cache;
  if (loaded[file] !== undefined || loaded[realpathSync(file)] !== undefined) {
    pinned.add(file);
    return file;
  }
  process.dlopen({ exports: {} }, file, constants.dlopen.RTLD_NOW | RTLD_NODELETE);
  pinned.add(file);
  return file;
}
