/**
 * The tfjs backends hpo trains on, by hpo's names: what `--backend` takes (plus `auto`) and what a
 * worker's heartbeat may say it was asked for and runs on. Only these names pass the bus.
 */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_NAMES];
