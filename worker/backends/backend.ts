/**
 * Picks the tfjs backend a process trains on. Order of preference for `auto`:
 * tensorflow-gpu (@tensorflow/tfjs-node-gpu) > tensorflow (@tensorflow/tfjs-node) > wasm > cpu.
 * `auto` takes the first that actually loads and says which; a backend asked for by name that fails to
 * load is a BackendError, never a silent fallback.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { BackendError, UsageError } from '../../shared/errors.js';
import { registerWasmGradientKernels } from './wasm-gradients.js';
import { registerTensorflowKernels } from './tensorflow-kernels.js';
import type { Logger } from '../../shared/log/index.js';
import { deviceOf, type OpsDevice, setOpsDevice } from './tf-device.js';

import {
  BACKEND_CHOICES,
  BACKEND_NAMES,
  type BackendChoice,
  type BackendName,
} from '../../shared/protocol/backend-names.js';

export { BACKEND_CHOICES, BACKEND_NAMES, type BackendChoice, type BackendName };

export interface BackendAttempt {
  backend: BackendName;
  error: string;
}

export interface BackendSelection {
  /** The hpo name of the backend in use. */
  backend: BackendName;
  /** What was asked for. */
  requested: BackendChoice;
  /** Backends tried before this one and why each failed (auto only). */
  skipped: BackendAttempt[];
  /** Where its ops run (tensorflow backends: whether TensorFlow found a GPU); absent when unknown. */
  device?: OpsDevice;
}

export function parseBackendChoice(value: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new UsageError(`unknown backend '${value}'; expected one of: ${BACKEND_CHOICES.join(', ')}`);
}

// Package names held in variables so the optional packages need not be installed to compile.
const NODE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

async function activate(name: BackendName): Promise<void> {
  let tfName: string;
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      // Importing either package registers tfjs's 'tensorflow' backend (libtensorflow through N-API).
      await import(NODE_PACKAGES[name]);
      registerTensorflowKernels();
      tfName = 'tensorflow';
      break;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmGradientKernels();
      tfName = 'wasm';
      break;
    case 'cpu':
      tfName = 'cpu';
      break;
  }
  // setBackend resolves false (and tfjs keeps or picks another backend) when initialisation fails.
  const ok = await tf.setBackend(tfName);
  if (!ok || tf.getBackend() !== tfName) {
    throw new Error(`tf.setBackend('${tfName}') failed; the active backend is '${tf.getBackend()}'`);
  }
  await tf.ready();
  // tfjs-node 4.22 in a worker thread: a thread that selected it and never ran an op crashes the
  // process (SIGSEGV) when the thread or the process ends. One op at selection avoids it.
  if (tfName === 'tensorflow') tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1))).dispose();
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/Cannot find (package|module)/.test(msg)) return 'package not installed';
  return msg.split('\n')[0];
}

export interface SelectBackendOptions {
  /** Where to say (info) which backend was chosen (auto) and why others were skipped. Default: nowhere. */
  logger?: Logger;
}

function withDevice(selection: BackendSelection): BackendSelection {
  let device: OpsDevice | undefined;
  try {
    device = deviceOf(tf.getBackend(), tf.backend());
  } catch {
    device = undefined;
  }
  setOpsDevice(device);
  return device === undefined ? selection : { ...selection, device };
}

/** Loads and activates a backend for this process (or thread). */
export async function selectBackend(
  choice: BackendChoice,
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  // PROD silences tfjs's console banners and skips its debug-only checks.
  tf.env().set('PROD', true);
  if (choice !== 'auto') {
    try {
      await activate(choice);
    } catch (err) {
      throw new BackendError(`backend '${choice}' could not be loaded: ${describe(err)}`, { cause: err });
    }
    return withDevice({ backend: choice, requested: choice, skipped: [] });
  }
  const skipped: BackendAttempt[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      await activate(name);
      const why = skipped.map((s) => `${s.backend}: ${s.error}`).join('; ');
      options.logger?.info(
        { backend: name, requested: 'auto', skipped },
        `backend: ${name} (auto${why ? `; skipped ${why}` : ''})`,
      );
      return withDevice({ backend: name, requested: 'auto', skipped });
    } catch (err) {
      skipped.push({ backend: name, error: describe(err) });
    }
  }
  throw new BackendError(
    `no backend could be loaded: ${skipped.map((s) => `${s.backend}: ${s.error}`).join('; ')}`,
  );
}

/**
 * Whether `choice` may end up on a libtensorflow backend in this installation: pools then give each trial
 * thread its share of TensorFlow's threads (native-threads.ts) before any thread loads the binding.
 * Checks that the package resolves without loading it.
 */
export function mayUseNativeBackend(choice: BackendChoice): boolean {
  return nativePackages(choice).length > 0;
}

/** The libtensorflow packages `choice` may load here, in the order `auto` tries them (resolved, not loaded). */
export function nativePackages(choice: BackendChoice): string[] {
  if (choice === 'tensorflow' || choice === 'tensorflow-gpu') return [NODE_PACKAGES[choice]];
  if (choice !== 'auto') return [];
  const require = createRequire(import.meta.url);
  return Object.values(NODE_PACKAGES).filter((pkg) => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  });
}
