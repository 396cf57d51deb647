/**
 * Warnings where hpo ignores what a W&B sweep file says or does it differently: W&B keys hpo ignores,
 * the normal family under bayes (TPE), and categorical probabilities under grid. The hyperband
 * differences are in hyperband-check.ts.
 */
import { allScopes, type ParsedScope } from './parse-params.js';
import type { PathSegment, ReportIssue } from './task-catalog.js';
import type { Method } from './types.js';

/** W&B's top-level keys that hpo accepts and ignores (listed in a warning). */
export const IGNORED_KEYS = ['name', 'project', 'entity', 'program', 'command'] as const;

/**
 * Lists the W&B keys hpo ignores, at the first one. program/command run as a command task when the file
 * has no `task` (docs/TASKS.md); with one, they are ignored.
 */
export function warnIgnoredKeys(data: Record<string, unknown>, warn: ReportIssue): void {
  const ignored = IGNORED_KEYS.filter(
    (k) => k in data && ((k !== 'program' && k !== 'command') || 'task' in data),
  );
  if (ignored.length > 0) warn([ignored[0]], `ignored by hpo (W&B keys): ${ignored.join(', ')}`);
}

const NORMAL_FAMILY: ReadonlySet<string> = new Set(['normal', 'log_normal', 'q_normal', 'q_log_normal']);

/** What the method does differently from W&B with some parameters, at each parameter concerned. */
export function warnMethodDifferences(
  method: Method | undefined,
  parsed: ParsedScope,
  warn: ReportIssue,
): void {
  for (const scope of allScopes(parsed)) {
    for (const [name, spec] of Object.entries(scope.specs)) {
      const path = scope.paths.get(name) as PathSegment[];
      if (method === 'bayes' && spec && NORMAL_FAMILY.has(spec.kind)) {
        warn(path, `bayes (TPE) searches ${spec.kind} within mu +- 4 sigma after its random start-up trials`);
      }
      if (method === 'grid' && spec?.kind === 'categorical' && spec.probabilities) {
        warn([...path, 'probabilities'], 'ignored by method grid (every value is tried)');
      }
    }
  }
}
