/**
 * Where `auto` departs from its order (tensorflow-gpu > tensorflow > wasm > cpu) for one family of models:
 * the built-in task's architectures whose trials train much faster on another backend than on the one the
 * order lands on. Only `auto` consults it, and only for trials that name a family (the multi-digit-mnist
 * task's `arch`); a backend named explicitly and user task modules keep the plain order.
 *
 * Measured on one thread, batch 64, the trainer's own step (docs/PERFORMANCE.md, "Native TensorFlow":
 * bench:train rows wasm / tensorflow, TensorFlow 2.21 CPU build): mlp 20,994 / 14,259 and 12,556 / 6,133
 * images/s, mlp_linear 20,372 / 14,684 and 8,342 / 5,844: 1.4-2.1x faster on wasm (their 3-10 ms step is
 * per-op overhead, and each tensorflow op crosses N-API). The conv models go the other way (cnn ~2x,
 * scnn2, scnn faster on tensorflow) and cnn2 / scnn3 tie: they keep the order. Not measured on a GPU, so
 * tensorflow-gpu is never overridden.
 */
import type { BackendName } from './backend.js';

export interface AutoPreference {
  /** The backend this family trains on under `auto` when it loads. */
  backend: BackendName;
  /** The backends of the auto order it replaces (measured slower for this family). */
  over: readonly BackendName[];
}

/** Whether trials here run one at a time (pool threads), so that switching backends between them is safe. */
let oneTrialAtATime = false;

/**
 * Called by a pool thread (one trial at a time): `auto` may then move a family to its faster backend.
 * Elsewhere (the library's inline executor runs several trials at once on one tfjs) `auto` keeps its order.
 * (This file loads no tfjs: a pool thread calls it before it knows whether a trial needs tfjs.)
 */
export function allowFamilyBackends(): void {
  oneTrialAtATime = true;
}

export function familyBackendsAllowed(): boolean {
  return oneTrialAtATime;
}

/** Family (the built-in task's architecture name) -> preferred backend. */
export const AUTO_PREFERENCES: Readonly<Record<string, AutoPreference>> = {
  mlp: { backend: 'wasm', over: ['tensorflow'] },
  mlp_linear: { backend: 'wasm', over: ['tensorflow'] },
};

/**
 * The backend `auto` should move a trial of `family` to, given the backend the auto order selected; undefined:
 * keep the order's backend (no family, no entry, or the order landed on a backend the entry does not replace).
 */
export function autoPreference(family: string | undefined, ordered: BackendName): BackendName | undefined {
  if (family === undefined || !Object.hasOwn(AUTO_PREFERENCES, family)) return undefined;
  const pref = AUTO_PREFERENCES[family];
  return pref.backend !== ordered && pref.over.includes(ordered) ? pref.backend : undefined;
}

/** The families the table sends to `backend` instead of `ordered` (for the log line). */
export function familiesPreferring(backend: BackendName, ordered: BackendName): string[] {
  return Object.entries(AUTO_PREFERENCES)
    .filter(([, p]) => p.backend === backend && p.over.includes(ordered))
    .map(([family]) => family);
}
