/** The sort keys of a page of trials (StoreReader.trialPage): a TRIAL_SORT_FIELDS entry or `param:NAME`. */
import type { SearchSpace } from '../search-space/types.js';
import { TRIAL_SORT_FIELDS, type TrialSortField } from './types.js';

export const PARAM_SORT_PREFIX = 'param:';

export type TrialSort = { field: TrialSortField } | { param: string };

/** The sort key read, or undefined when it is neither a field nor a parameter of the space. */
export function parseTrialSort(sort: string, space: SearchSpace): TrialSort | undefined {
  if (sort.startsWith(PARAM_SORT_PREFIX)) {
    const param = sort.slice(PARAM_SORT_PREFIX.length);
    return Object.hasOwn(space.parameters, param) ? { param } : undefined;
  }
  return (TRIAL_SORT_FIELDS as readonly string[]).includes(sort)
    ? { field: sort as TrialSortField }
    : undefined;
}

/** Null when `sort` sorts trials of the space; otherwise what is wrong, for the user. */
export function trialSortProblem(sort: string, space: SearchSpace): string | null {
  if (parseTrialSort(sort, space)) return null;
  return `sort: expected one of ${TRIAL_SORT_FIELDS.join(', ')} or ${PARAM_SORT_PREFIX}NAME, got '${sort}'`;
}
