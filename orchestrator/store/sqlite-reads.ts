/**
 * The prepared SQL of StoreReader's aggregate reads (the web dashboard's): they count, group and page
 * in SQLite, so an answer never ships every trial or epoch row.
 */
import type Database from 'better-sqlite3';

import { toTrial, type TrialRow } from './sqlite-rows.js';
import { parseTrialSort } from './trial-sort.js';
import type { SearchSpace } from '../search-space/types.js';
import {
  FINAL_STATES,
  type ErrorGroup,
  type FinishedOrderRow,
  type TrialPage,
  type TrialPageQuery,
  type TrialSortField,
  type TrialState,
} from './types.js';

/** Trials that rank: completed or stopped (a failed trial's value, if any, never ranks). */
const RANKED_SQL = FINAL_STATES.filter((s) => s !== 'failed')
  .map((s) => `'${s}'`)
  .join(', ');

const SORT_COLUMNS: Record<TrialSortField, string> = {
  value: 'value',
  index: 'idx',
  state: 'state',
  epochs: 'epochs',
  started_at: 'started_at',
  ended_at: 'ended_at',
  worker: 'worker',
};

export type ReadStatements = ReturnType<typeof prepareReadStatements>;

export function prepareReadStatements(db: Database.Database) {
  return {
    countByExperiment: db.prepare<[], { experiment: string; state: TrialState; n: number }>(
      'SELECT experiment, state, COUNT(*) AS n FROM trials GROUP BY experiment, state',
    ),
    countEpochs: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM epochs WHERE experiment = ?'),
    stopped: db.prepare<[string], { index: number; epochs: number }>(
      `SELECT idx AS "index", epochs FROM trials WHERE experiment = ? AND state = 'stopped'`,
    ),
    errorGroups: db.prepare<[string, number], ErrorGroup>(
      `SELECT COALESCE(error, '(no message)') AS error, COUNT(*) AS trials, MIN(trial_id) AS trial_id
       FROM trials WHERE experiment = ? AND state = 'failed'
       GROUP BY error ORDER BY trials DESC, error LIMIT ?`,
    ),
    // The newest trial with epochs (by index, an indexed lookup), its last epoch.
    lastEpochMetrics: db.prepare<{ experiment: string }, { metrics: string }>(
      `SELECT metrics FROM epochs WHERE experiment = @experiment AND trial_id = (
         SELECT trial_id FROM trials WHERE experiment = @experiment AND epochs > 0 ORDER BY idx DESC LIMIT 1)
       ORDER BY epoch DESC LIMIT 1`,
    ),
    finishedOrder: db.prepare<[string], FinishedOrderRow>(
      `SELECT trial_id, idx AS "index", value, COALESCE(ended_at, created_at) AS ended_at FROM trials
       WHERE experiment = ? AND state IN (${RANKED_SQL}) AND value IS NOT NULL
       ORDER BY COALESCE(ended_at, created_at), idx`,
    ),
    finishedParams: db.prepare<[string], { trial_id: string; params: string; value: number; epochs: number }>(
      `SELECT trial_id, params, value, epochs FROM trials
       WHERE experiment = ? AND state IN (${RANKED_SQL}) AND value IS NOT NULL ORDER BY idx`,
    ),
    epochMetrics: db.prepare<[string, number], { trial_id: string; metrics: string }>(
      'SELECT trial_id, metrics FROM epochs WHERE experiment = ? AND epoch = ?',
    ),
    lastEpochRow: db.prepare<[], { id: number | null }>('SELECT MAX(rowid) AS id FROM epochs'),
  };
}

/** One page of trials and how many match; undefined for a sort that is not one (trialSortProblem). */
export function readTrialPage(
  db: Database.Database,
  experiment: string,
  space: SearchSpace,
  q: TrialPageQuery,
): TrialPage | undefined {
  const sort = parseTrialSort(q.sort, space);
  if (!sort) return undefined;
  const dir = q.descending ? 'DESC' : 'ASC';
  // A parameter's path is bound, never spliced into the SQL.
  const key = 'field' in sort ? SORT_COLUMNS[sort.field] : 'json_extract(params, @path)';
  const where = `experiment = @experiment${q.state ? ' AND state = @state' : ''}`;
  const args: Record<string, unknown> = { experiment, limit: q.limit, offset: q.offset };
  if (q.state) args.state = q.state;
  const total = db
    .prepare<Record<string, unknown>, { n: number }>(`SELECT COUNT(*) AS n FROM trials WHERE ${where}`)
    .get(args)!.n;
  if ('param' in sort) args.path = `$."${sort.param.replace(/"/g, '""')}"`;
  const rows = db
    .prepare<Record<string, unknown>, TrialRow>(
      `SELECT * FROM trials WHERE ${where} ORDER BY ${key} IS NULL, ${key} ${dir}, idx ASC
       LIMIT @limit OFFSET @offset`,
    )
    .all(args)
    .map(toTrial);
  return { total, rows };
}
