/**
 * A file's `metric`: W&B's default goal (minimize, warned) when the file names a metric without one,
 * hpo's default metric when it names none; the name must be one the task reports, and never a test metric.
 */
import { isObject } from './parse-params.js';
import { show } from './schema.js';
import type { ReportIssue, TaskCatalog } from './task-catalog.js';
import type { Goal, Metric } from './types.js';

export const DEFAULT_METRIC = { name: 'val_acc', goal: 'maximize' } as const;

/** The file's metric (`raw` when its structure is sound, else undefined: the default). */
export function metricOf(raw: Record<string, unknown> | undefined, warn: ReportIssue): Metric {
  if (raw === undefined) return { ...DEFAULT_METRIC };
  const metric: Metric = { name: raw.name as string, goal: (raw.goal as Goal | undefined) ?? 'minimize' };
  if (raw.goal === undefined) warn(['metric'], "metric.goal not given: minimize (W&B's default)");
  if (typeof raw.target === 'number') metric.target = raw.target;
  return metric;
}

/** Reports a metric name that a known `task` does not report, and any test metric. */
export function checkMetricName(
  raw: unknown,
  task: string | undefined,
  tasks: TaskCatalog,
  report: ReportIssue,
): void {
  const name = isObject(raw) ? raw.name : undefined;
  if (typeof name !== 'string') return;
  if (task !== undefined && name !== '') {
    const metrics = tasks.metrics?.(task);
    if (metrics && !metrics.includes(name)) {
      report(
        ['metric', 'name'],
        `expected a metric task ${task} reports (one of ${metrics.join(', ')}), got ${show(name)}`,
      );
    }
  }
  if (/^test_/.test(name)) {
    report(
      ['metric', 'name'],
      `expected a validation metric: test metrics never drive selection or early stopping, got ${show(name)}`,
    );
  }
}
