/**
 * The dashboard's own read-only connection to the database: a handful of prepared statements that
 * aggregate and paginate in SQLite, so a page never ships every trial or epoch row. Safe beside a running
 * search (WAL: readers never block the writer). `version()` changes whenever another connection commits.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, UsageError } from '../shared/errors.js';
import type { ParamValue } from '../shared/protocol/index.js';
// eslint-disable-next-line no-restricted-imports -- removed at merge: the store's StoreReader replaces this file
import { decodeMetrics, toTrial, type TrialRow } from '../orchestrator/store/sqlite-rows.js';
import {
  checkDatabase,
  FINAL_STATES,
  SCHEMA_VERSION,
  TRIAL_STATES,
  type TrialRecord,
  type TrialState,
} from '../orchestrator/store/index.js';
import type { SearchSpace } from '../orchestrator/search-space/index.js';

export interface ExperimentRow {
  name: string;
  space: SearchSpace;
  status: string;
  created_at: number;
  updated_at: number;
}

export interface EpochRow {
  epoch: number;
  metrics: Record<string, number>;
  recorded_at: number;
}

/** Columns a trial list sorts by: a field, or `param:NAME`. */
export const SORT_FIELDS = ['index', 'value', 'state', 'epochs', 'started_at', 'ended_at', 'worker'] as const;

export interface TrialPageQuery {
  state?: TrialState;
  /** A SORT_FIELDS entry or `param:NAME` of a parameter of the space. */
  sort: string;
  descending: boolean;
  offset: number;
  limit: number;
}

/** Trials that rank: completed or stopped (a failed trial's value, if any, never ranks). */
const RANKED_SQL = FINAL_STATES.filter((s) => s !== 'failed')
  .map((s) => `'${s}'`)
  .join(', ');
const TRIAL_COLUMNS =
  'experiment, trial_id, idx, params, seed, state, attempt, worker, backend, created_at, started_at, ended_at, value, metrics, epochs, error';

/** SQL ORDER BY for a sort key, or null when the key is not one. Parameter paths are bound, not spliced. */
function orderBy(
  sort: string,
  descending: boolean,
  space: SearchSpace,
): { sql: string; path?: string } | null {
  const dir = descending ? 'DESC' : 'ASC';
  if (sort.startsWith('param:')) {
    const name = sort.slice('param:'.length);
    if (!Object.hasOwn(space.parameters, name)) return null;
    return {
      sql: `json_extract(params, @path) IS NULL, json_extract(params, @path) ${dir}, idx ASC`,
      path: `$."${name.replace(/"/g, '""')}"`,
    };
  }
  const column: Record<string, string> = {
    index: 'idx',
    value: 'value',
    state: 'state',
    epochs: 'epochs',
    started_at: 'started_at',
    ended_at: 'ended_at',
    worker: 'worker',
  };
  const c = column[sort];
  if (!c) return null;
  return { sql: `${c} IS NULL, ${c} ${dir}, idx ASC` };
}

export class DashboardReader {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly spaces = new Map<string, SearchSpace>();

  /** Opens an existing hpo database read-only. Throws UsageError when there is none at `path`. */
  static open(path: string): DashboardReader {
    const file = resolve(path);
    if (!existsSync(file)) {
      throw new UsageError(`no database ${file} (start a search with hpo search FILE --db ${path} first)`);
    }
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
    try {
      const info = checkDatabase(db, file);
      if (info.userVersion < SCHEMA_VERSION) {
        throw new StoreError(
          `${file} is at schema version ${info.userVersion}; open it once with hpo (e.g. hpo experiments --db ${path}) to upgrade it`,
          { file },
        );
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return new DashboardReader(db, file);
  }

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.file = file;
  }

  /** Changes whenever another connection (the search) has committed since the last call. */
  version(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  experiments(): ExperimentRow[] {
    const rows = this.db
      .prepare<[], { name: string; space: string; status: string; created_at: number; updated_at: number }>(
        'SELECT name, space, status, created_at, updated_at FROM experiments ORDER BY created_at DESC, name',
      )
      .all();
    return rows.map((r) => ({ ...r, space: JSON.parse(r.space) as SearchSpace }));
  }

  experiment(name: string): ExperimentRow | undefined {
    const r = this.db
      .prepare<
        [string],
        { name: string; space: string; status: string; created_at: number; updated_at: number }
      >('SELECT name, space, status, created_at, updated_at FROM experiments WHERE name = ?')
      .get(name);
    if (!r) return undefined;
    const space = this.spaces.get(name) ?? (JSON.parse(r.space) as SearchSpace);
    this.spaces.set(name, space);
    return { ...r, space };
  }

  /** Trials per state of every experiment (one GROUP BY). */
  countsByExperiment(): Map<string, Record<TrialState, number>> {
    const out = new Map<string, Record<TrialState, number>>();
    const rows = this.db
      .prepare<[], { experiment: string; state: TrialState; n: number }>(
        'SELECT experiment, state, COUNT(*) AS n FROM trials GROUP BY experiment, state',
      )
      .all();
    for (const r of rows) {
      let c = out.get(r.experiment);
      if (!c) {
        c = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as Record<TrialState, number>;
        out.set(r.experiment, c);
      }
      c[r.state] = r.n;
    }
    return out;
  }

  counts(experiment: string): Record<TrialState, number> {
    const c = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as Record<TrialState, number>;
    const rows = this.db
      .prepare<[string], { state: TrialState; n: number }>(
        'SELECT state, COUNT(*) AS n FROM trials WHERE experiment = ? GROUP BY state',
      )
      .all(experiment);
    for (const r of rows) c[r.state] = r.n;
    return c;
  }

  epochRows(experiment: string): number {
    return this.db
      .prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM epochs WHERE experiment = ?')
      .get(experiment)!.n;
  }

  /** The best finished trials (completed or stopped, with a value), best first by the goal. */
  best(experiment: string, limit: number): TrialRecord[] {
    const goal = this.experiment(experiment)?.space.metric.goal ?? 'maximize';
    return this.db
      .prepare<[string, number], TrialRow>(
        `SELECT ${TRIAL_COLUMNS} FROM trials
         WHERE experiment = ? AND state IN (${RANKED_SQL}) AND value IS NOT NULL
         ORDER BY value ${goal === 'minimize' ? 'ASC' : 'DESC'}, idx LIMIT ?`,
      )
      .all(experiment, limit)
      .map(toTrial);
  }

  /** (index, epochs) of every stopped trial: the rung each reached is derived from them. */
  stopped(experiment: string): { index: number; epochs: number }[] {
    return this.db
      .prepare<[string], { index: number; epochs: number }>(
        `SELECT idx AS "index", epochs FROM trials WHERE experiment = ? AND state = 'stopped'`,
      )
      .all(experiment);
  }

  /** Distinct errors of failed trials, most frequent first, with one trial that had each. */
  errors(experiment: string, limit: number): { error: string; trials: number; trial_id: string }[] {
    return this.db
      .prepare<[string, number], { error: string; trials: number; trial_id: string }>(
        `SELECT COALESCE(error, '(no message)') AS error, COUNT(*) AS trials, MIN(trial_id) AS trial_id
         FROM trials WHERE experiment = ? AND state = 'failed'
         GROUP BY error ORDER BY trials DESC, error LIMIT ?`,
      )
      .all(experiment, limit);
  }

  /** One page of trials and how many match the filter; null when the sort key is not one. */
  trialPage(experiment: string, q: TrialPageQuery): { total: number; rows: TrialRecord[] } | null {
    const exp = this.experiment(experiment);
    if (!exp) return { total: 0, rows: [] };
    const order = orderBy(q.sort, q.descending, exp.space);
    if (!order) return null;
    const where = `experiment = @experiment${q.state ? ' AND state = @state' : ''}`;
    const args: Record<string, unknown> = { experiment, limit: q.limit, offset: q.offset };
    if (q.state) args.state = q.state;
    const total = this.db
      .prepare<Record<string, unknown>, { n: number }>(`SELECT COUNT(*) AS n FROM trials WHERE ${where}`)
      .get(args)!.n;
    if (order.path) args.path = order.path;
    const rows = this.db
      .prepare<Record<string, unknown>, TrialRow>(
        `SELECT ${TRIAL_COLUMNS} FROM trials WHERE ${where} ORDER BY ${order.sql} LIMIT @limit OFFSET @offset`,
      )
      .all(args)
      .map(toTrial);
    return { total, rows };
  }

  trial(experiment: string, trialId: string): TrialRecord | undefined {
    const row = this.db
      .prepare<[string, string], TrialRow>(
        `SELECT ${TRIAL_COLUMNS} FROM trials WHERE experiment = ? AND trial_id = ?`,
      )
      .get(experiment, trialId);
    return row && toTrial(row);
  }

  epochs(experiment: string, trialId: string): EpochRow[] {
    return this.db
      .prepare<[string, string], { epoch: number; metrics: string; recorded_at: number }>(
        'SELECT epoch, metrics, recorded_at FROM epochs WHERE experiment = ? AND trial_id = ? ORDER BY epoch',
      )
      .all(experiment, trialId)
      .map((r) => ({ ...r, metrics: decodeMetrics(r.metrics) }));
  }

  /** The metric names of the last epoch of the experiment's newest trial with epochs. */
  epochMetricNames(experiment: string): string[] {
    // The newest trial with epochs (by index, an indexed lookup), its last epoch.
    const row = this.db
      .prepare<{ experiment: string }, { metrics: string }>(
        `SELECT metrics FROM epochs WHERE experiment = @experiment AND trial_id = (
           SELECT trial_id FROM trials WHERE experiment = @experiment AND epochs > 0 ORDER BY idx DESC LIMIT 1)
         ORDER BY epoch DESC LIMIT 1`,
      )
      .get({ experiment });
    return row ? Object.keys(decodeMetrics(row.metrics)) : [];
  }

  /** Finished trials with a value in the order they finished: (index, value, ended_at). */
  finishedOrder(experiment: string): { trial_id: string; index: number; value: number; ended_at: number }[] {
    return this.db
      .prepare<[string], { trial_id: string; index: number; value: number; ended_at: number }>(
        `SELECT trial_id, idx AS "index", value, COALESCE(ended_at, created_at) AS ended_at FROM trials
         WHERE experiment = ? AND state IN (${RANKED_SQL}) AND value IS NOT NULL
         ORDER BY COALESCE(ended_at, created_at), idx`,
      )
      .all(experiment);
  }

  /** Params, value and epochs of every finished trial with a value (for importance). */
  finishedParams(
    experiment: string,
  ): { trial_id: string; params: Record<string, ParamValue>; value: number; epochs: number }[] {
    return this.db
      .prepare<[string], { trial_id: string; params: string; value: number; epochs: number }>(
        `SELECT trial_id, params, value, epochs FROM trials
         WHERE experiment = ? AND state IN (${RANKED_SQL}) AND value IS NOT NULL ORDER BY idx`,
      )
      .all(experiment)
      .map((r) => ({ ...r, params: JSON.parse(r.params) as Record<string, ParamValue> }));
  }

  /** Each trial's `metric` recorded at `epoch` (trials without it are absent). */
  objectiveAt(experiment: string, epoch: number, metric: string): Map<string, number> {
    const rows = this.db
      .prepare<[string, number], { trial_id: string; metrics: string }>(
        'SELECT trial_id, metrics FROM epochs WHERE experiment = ? AND epoch = ?',
      )
      .all(experiment, epoch);
    const out = new Map<string, number>();
    for (const r of rows) {
      const v = decodeMetrics(r.metrics)[metric];
      if (typeof v === 'number') out.set(r.trial_id, v);
    }
    return out;
  }

  /** Latest epoch row id: grows with every epoch recorded anywhere in the file. */
  lastEpochRow(): number {
    return this.db.prepare<[], { id: number | null }>('SELECT MAX(rowid) AS id FROM epochs').get()!.id ?? 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
