/**
 * `method: grid` beyond the schema: every parameter must have finitely many values, and the grid may
 * hold at most `maxGrid` configurations (--max-grid).
 */
import { isMap, type Document } from 'yaml';
import { allScopes, type ParsedScope } from './parse-params.js';
import type { PathSegment, ReportIssue } from './task-catalog.js';
import type { ParamSpecs } from './types.js';
import { scopeSize, valueCount } from './values.js';

/**
 * Reports each continuous parameter (at its `distribution` key when it has one); true when every
 * parameter is finite and well-formed, i.e. the grid can be counted.
 */
export function checkGridFinite(parsed: ParsedScope, doc: Document, report: ReportIssue): boolean {
  let finite = true;
  for (const scope of allScopes(parsed)) {
    for (const [name, spec] of Object.entries(scope.specs)) {
      if (!spec) {
        finite = false;
        continue;
      }
      const own = spec.kind === 'categorical' ? spec.values.length : valueCount(spec);
      if (own !== null) continue;
      finite = false;
      const path = scope.paths.get(name) as PathSegment[];
      const raw = doc.getIn(path) as unknown;
      report(
        isMap(raw) && raw.has('distribution') ? [...path, 'distribution'] : path,
        `method grid needs a finite parameter (value, values, int_uniform, q_uniform or q_log_uniform_values); ${spec.kind} is continuous`,
      );
    }
  }
  return finite;
}

/** Reports a grid with more configurations than `limit`. */
export function checkGridSize(specs: ParamSpecs, limit: number, report: ReportIssue): void {
  const size = scopeSize(specs);
  if (size !== null && size > limit) {
    report(
      ['parameters'],
      `the grid has ${size} configurations, more than the limit of ${limit} (--max-grid)`,
    );
  }
}
