/**
 * The backend of this thread (or process): selected on the first trial that needs tfjs, and then held;
 * tfjs state is per thread and loading a backend is slow. Built-in training tasks and task modules
 * (defineTask) share it, so a user's model trains on the backend the worker was told to use.
 *
 * Under `auto`, a trial of a model family that trains much faster on another backend than on the one the
 * auto order selected (auto-preference.ts: mlp and mlp_linear on wasm rather than tensorflow) runs there:
 * the thread keeps both backends registered and switches with tf.setBackend between trials. Each trial
 * builds and disposes its own model, optimizer and batches, so no tensor of one trial is used after a
 * switch; the kernels hpo adds (wasm gradients, tensorflow kernels) are registered per backend and stay.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../shared/errors.js';
import { childLogger, type Logger } from '../../shared/log/index.js';
import { autoPreference, familiesPreferring, familyBackendsAllowed } from './auto-preference.js';
import { type BackendChoice, type BackendName, selectBackend } from './backend.js';
import { setTfjsMemoryProbe } from './tfjs-memory.js';

/** What the worker was told (`choice`) and the backend that choice selected in this thread. */
let thread: { choice: BackendChoice; ordered: Promise<BackendName> } | undefined;
/** Backends a family preference moved trials to here: loaded (true), or failed to load (false). */
const preferred = new Map<BackendName, Promise<boolean>>();
/** The backend active in this thread now (hpo's name). */
let active: BackendName | undefined;

export interface ThreadBackendOptions {
  /** The trial's model family (the built-in task's architecture): `auto` may pick its faster backend. */
  family?: string;
  /** Where to say that `auto` moved a family to another backend. Default: the backend component's logger. */
  logger?: Logger;
}

function orderedBackend(choice: BackendChoice): Promise<BackendName> {
  if (thread && thread.choice !== choice) {
    throw new UsageError(`this worker thread already runs backend '${thread.choice}', not '${choice}'`);
  }
  thread ??= {
    choice,
    ordered: selectBackend(choice).then((s) => {
      active = s.backend;
      // This thread now holds tfjs memory: let the pool report it with each epoch.
      setTfjsMemoryProbe(() => {
        const m = tf.memory();
        return { bytes: m.numBytes, tensors: m.numTensors };
      });
      return s.backend;
    }),
  };
  return thread.ordered;
}

/** Makes `name` (selected here before) the active backend; a no-op when it already is. */
async function switchTo(name: BackendName): Promise<void> {
  if (active === name) return;
  await selectBackend(name);
  active = name;
}

/** Loads `name` for a family preference once per thread; logs the move once, or why it cannot happen. */
function loadPreferred(name: BackendName, ordered: BackendName, log: Logger): Promise<boolean> {
  let loaded = preferred.get(name);
  if (!loaded) {
    loaded = switchTo(name).then(
      () => {
        const list = familiesPreferring(name, ordered);
        const families = list.join(', ');
        const which = list.length === 1 ? 'this family' : 'these families';
        log.info(
          { backend: name, requested: 'auto', instead_of: ordered, families },
          `auto: ${families} on ${name} (faster than ${ordered} for ${which}, docs/PERFORMANCE.md)`,
        );
        return true;
      },
      (err: unknown) => {
        active = undefined; // whatever tfjs holds now, the next switch selects again
        log.warn(
          { err, backend: name },
          `auto: ${name} did not load; the trials it would take stay on ${ordered}`,
        );
        return false;
      },
    );
    preferred.set(name, loaded);
  }
  return loaded;
}

/**
 * Selects `choice` in this thread the first time and makes the trial's backend active; resolves with it
 * (hpo's name): the order's backend, or under `auto` the family's preferred one (auto-preference.ts).
 */
export async function ensureThreadBackend(
  choice: BackendChoice,
  options: ThreadBackendOptions = {},
): Promise<BackendName> {
  const ordered = await orderedBackend(choice);
  const want =
    choice === 'auto' && familyBackendsAllowed() ? autoPreference(options.family, ordered) : undefined;
  if (want !== undefined) {
    const log = options.logger ?? childLogger({ component: 'backend' });
    if (await loadPreferred(want, ordered, log)) {
      await switchTo(want);
      return want;
    }
  }
  await switchTo(ordered);
  return ordered;
}

/** hpo's @tensorflow/tfjs (the instance the worker's backend is registered in), on the auto order's backend. */
export async function threadTfjs(choice: BackendChoice): Promise<typeof tf> {
  await ensureThreadBackend(choice);
  return tf;
}
