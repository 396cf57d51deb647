import type { RunRecord } from './scenarios.js';

/** A run that broke, or lost, duplicated or misplaced a trial. */
export function failed(r: RunRecord): boolean {
  return r.error !== undefined || r.lost + r.duplicated + r.wrongState > 0;
}
