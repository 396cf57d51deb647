/**
 * Which searched parameters matter: permutation importance on a random forest fitted to the finished
 * trials (objective value from parameters). Numbers as they are (log10 for log-scaled distributions),
 * categorical values as their position in the list. Reported as each parameter's share of the summed
 * importance, with the method named, so the page can say what it shows.
 */
import type { ParamValue } from '../shared/protocol/index.js';
import type { ParamSpec, SearchSpace } from '../orchestrator/search-space/index.js';
import { permutationImportance, subsample } from './random-forest.js';

export const IMPORTANCE_METHOD =
  'permutation importance (out-of-bag) on a random forest of 24 regression trees (depth 6) fitted to the finished trials';
/** Fewer finished trials than this: no importance (a forest on a handful of points says nothing). */
export const MIN_TRIALS_FOR_IMPORTANCE = 8;
/** At most this many finished trials are used (a seeded sample beyond). */
export const MAX_TRIALS_FOR_IMPORTANCE = 400;

export interface ImportanceAnswer {
  method: string;
  /** Finished trials with a value, and how many of them the forest saw. */
  trials: number;
  used: number;
  /** Searched parameters, most important first; share sums to 1 (all 0 when nothing explains the value). */
  params: { name: string; share: number }[];
  /** Why there is nothing to show, when there is not. */
  note?: string;
}

/** The searched parameters of a space: those not held constant, in file order. */
export function searchedParams(space: SearchSpace): string[] {
  return Object.entries(space.parameters)
    .filter(([, spec]) => spec.kind !== 'constant')
    .map(([name]) => name);
}

function encode(spec: ParamSpec, v: ParamValue | undefined): number {
  if (v === undefined) return NaN;
  if (spec.kind === 'categorical') {
    const i = spec.values.findIndex((x) => x === v);
    return i >= 0 ? i : spec.values.length;
  }
  if (typeof v !== 'number') return typeof v === 'boolean' ? Number(v) : NaN;
  const log = spec.kind === 'log_uniform_values' || spec.kind === 'q_log_uniform_values';
  return log && v > 0 ? Math.log10(v) : v;
}

export function parameterImportance(
  space: SearchSpace,
  trials: readonly { params: Record<string, ParamValue>; value: number }[],
): ImportanceAnswer {
  const names = searchedParams(space);
  const base = { method: IMPORTANCE_METHOD, trials: trials.length };
  if (names.length === 0) return { ...base, used: 0, params: [], note: 'no parameter is searched' };
  const usable = trials.filter((t) => Number.isFinite(t.value));
  if (usable.length < MIN_TRIALS_FOR_IMPORTANCE) {
    return {
      ...base,
      used: 0,
      params: names.map((name) => ({ name, share: 0 })),
      note: `needs at least ${MIN_TRIALS_FOR_IMPORTANCE} finished trials with a value (${usable.length} so far)`,
    };
  }
  const picked = subsample(usable.length, MAX_TRIALS_FOR_IMPORTANCE).map((i) => usable[i]);
  const xs = picked.map((t) => names.map((n) => encode(space.parameters[n], t.params[n])));
  // A missing value sorts as the lowest (trees compare numbers; NaN would never split).
  for (const x of xs) for (let j = 0; j < x.length; j++) if (Number.isNaN(x[j])) x[j] = -Infinity;
  const raw = permutationImportance(
    xs,
    picked.map((t) => t.value),
    { trees: 24, maxDepth: 6 },
  );
  const total = raw.reduce((a, b) => a + b, 0);
  const params = names
    .map((name, j) => ({ name, share: total > 0 ? raw[j] / total : 0 }))
    .sort((a, b) => b.share - a.share);
  return { ...base, used: picked.length, params };
}
