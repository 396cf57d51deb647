/**
 * Reading the experiment's objective out of an epoch's metrics as a score where higher is better:
 * the value itself when maximizing, its negation when minimizing; a missing or non-finite value (a
 * diverged trial) scores -Infinity, the worst.
 */
import type { Metric } from '../search-space/types.js';

export function scoreOf(metric: Metric, metrics: Readonly<Record<string, number>> | undefined): number {
  const v = metrics?.[metric.name];
  if (typeof v !== 'number' || !Number.isFinite(v)) return -Infinity;
  return metric.goal === 'maximize' ? v : -v;
}
