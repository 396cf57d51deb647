/**
 * Duplicate values in a categorical list: W&B accepts them, so hpo does too, with a warning. hpo keeps
 * the first of each (equal by content, so 1 and 1.0, or equal mappings, are one value) and adds a
 * duplicate's probability to the one kept, so a list tries each distinct value once.
 */
import { formatPath, show } from './schema.js';
import type { PathSegment } from './task-catalog.js';
import type { ParamSpec } from './types.js';
import { valueKey } from './values.js';

type Report = (path: readonly PathSegment[], message: string) => void;

/** Drops repeated values of `spec` in place (warning at each), merging their probabilities. */
export function dropDuplicateValues(
  spec: Extract<ParamSpec, { kind: 'categorical' }>,
  at: readonly PathSegment[],
  warn: Report,
): void {
  const first = new Map<string, number>();
  const values: typeof spec.values = [];
  const probabilities: number[] = [];
  spec.values.forEach((value, i) => {
    const key = valueKey(value);
    const kept = first.get(key);
    const p = spec.probabilities?.[i] ?? 0;
    if (kept === undefined) {
      first.set(key, values.length);
      values.push(value);
      probabilities.push(p);
      return;
    }
    probabilities[kept] += p;
    const original = spec.values.findIndex((v) => valueKey(v) === key);
    warn(
      [...at, 'values', i],
      `duplicate of ${formatPath([...at, 'values', original])} (${show(value)}): W&B accepts it; hpo keeps one, so each distinct value is tried once${spec.probabilities ? ' (their probabilities add up)' : ''}`,
    );
  });
  if (values.length === spec.values.length) return;
  spec.values = values;
  if (spec.probabilities) spec.probabilities = probabilities;
}
