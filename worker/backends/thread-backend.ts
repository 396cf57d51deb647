/**
 * The backend of this thread (or process): selected once, on the first trial that needs tfjs, and then
 * held; tfjs state is per thread and loading a backend is slow. Built-in training tasks and task modules
 * (defineTask) share it, so a user's model trains on the backend the worker was told to use.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../shared/errors.js';
import { type BackendChoice, selectBackend } from './backend.js';
import { setTfjsMemoryProbe } from './tfjs-memory.js';

let backendReady: { choice: BackendChoice; ready: Promise<string> } | undefined;

/** Selects `choice` in this thread the first time; resolves with the backend in use (hpo's name). */
export function ensureThreadBackend(choice: BackendChoice): Promise<string> {
  if (backendReady && backendReady.choice !== choice) {
    throw new UsageError(`this worker thread already runs backend '${backendReady.choice}', not '${choice}'`);
  }
  backendReady ??= {
    choice,
    ready: selectBackend(choice).then((s) => {
      // This thread now holds tfjs memory: let the pool report it with each epoch.
      setTfjsMemoryProbe(() => {
        const m = tf.memory();
        return { bytes: m.numBytes, tensors: m.numTensors };
      });
      return s.backend;
    }),
  };
  return backendReady.ready;
}

/** hpo's @tensorflow/tfjs (the instance the worker's backend is registered in), after ensureThreadBackend. */
export async function threadTfjs(choice: BackendChoice): Promise<typeof tf> {
  await ensureThreadBackend(choice);
  return tf;
}
