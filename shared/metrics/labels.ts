/** Metric label values both processes derive the same way (docs/METRICS.md). */
import type { TrialSpec } from '../protocol/index.js';

/** Label of a trial's architecture: `params.arch`, else the task name. */
export function archLabel(spec: Pick<TrialSpec, 'params' | 'task'>): string {
  const arch = spec.params.arch;
  return typeof arch === 'string' && arch !== '' ? arch : spec.task;
}

/** Label of a backend; `none` when the task used no tfjs backend. */
export function backendLabel(backend: string | null | undefined): string {
  return backend ? backend : 'none';
}
