/**
 * The structural check of a file's data (schema.ts, ajv) as the parser reports it: a parameter entry with
 * none of the keys that give it a shape gets one clear message instead of the schema's "min is required",
 * and the keys and parameter entries found broken are remembered so that later checks skip them.
 */
import { formatPath, validateStructure } from './schema.js';
import { entryPathOf, isObject, shapelessEntries } from './parse-params.js';
import type { ReportIssue } from './task-catalog.js';

/** What the structural check found broken (later checks leave those alone: already reported). */
export interface BrokenParts {
  /** Top-level keys with structural errors. */
  keys: Set<string>;
  /** Formatted paths of parameter entries with structural errors. */
  params: Set<string>;
}

/** Reports every structural problem of `data`; returns what is broken. */
export function checkStructure(data: unknown, report: ReportIssue): BrokenParts {
  const shapeless = new Set<string>();
  for (const path of isObject(data) ? shapelessEntries(data.parameters) : []) {
    shapeless.add(formatPath(path));
    report(path, 'expected value, values, min and max, distribution, or parameters');
  }
  const keys = new Set<string>();
  const params = new Set<string>(shapeless);
  for (const issue of validateStructure(data)) {
    const entry = entryPathOf(issue.path);
    if (entry && shapeless.has(formatPath(entry)) && issue.path.length > entry.length) continue;
    report(issue.path, issue.message);
    const top = issue.path[0];
    if (typeof top === 'string' && top !== 'parameters') keys.add(top);
    if (entry) params.add(formatPath(entry));
    else if (top === 'parameters') keys.add(top);
  }
  return { keys, params };
}
