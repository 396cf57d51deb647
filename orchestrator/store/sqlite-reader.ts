/**
 * The read half of SqliteStore (StoreReader): prepared reads on one better-sqlite3 connection, answered
 * as promises, and the change feed (PRAGMA data_version, which moves when another connection commits,
 * plus this connection's own writes, polled by PollingWatches).
 */
import type Database from 'better-sqlite3';

import type { Goal, SearchSpace } from '../search-space/types.js';
import type { ParamValue } from '../../shared/protocol/index.js';
import { StoreError } from '../../shared/errors.js';
import type { OwnerLease } from './owner-lease.js';
import { PollingWatches } from './polling-watch.js';
import { type LeaseStatements, prepareLeaseStatements } from './sqlite-lease.js';
import { prepareReadStatements, readTrialPage, type ReadStatements } from './sqlite-reads.js';
import { decodeMetrics, toEpoch, toExperiment, toTrial } from './sqlite-rows.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';
import { trialSortProblem } from './trial-sort.js';
import {
  TRIAL_STATES,
  type EpochRecord,
  type ErrorGroup,
  type ExperimentRecord,
  type FinishedOrderRow,
  type FinishedParamsRow,
  type LeaderboardOptions,
  type ModelRecord,
  type RunInfo,
  type StoreChange,
  type StoreReader,
  type TrialPage,
  type TrialPageQuery,
  type TrialRecord,
  type TrialState,
  type WatchOptions,
} from './types.js';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function noCounts(): Record<TrialState, number> {
  return Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as Record<TrialState, number>;
}

export class SqliteStoreReader implements StoreReader {
  /** Absolute path of the database file, or ':memory:'. */
  readonly file: string;
  readonly readonly: boolean;

  protected readonly db: Database.Database;
  protected readonly now: () => number;
  protected readonly sql: Statements;
  protected readonly reads: ReadStatements;
  protected readonly leases: LeaseStatements;
  /** Writes this connection made (data_version only counts other connections' commits). */
  protected writes = 0;
  /** Metric of each experiment seen (a space never changes once created). */
  private readonly metrics = new Map<string, { name: string; goal: Goal }>();
  private readonly watches = new PollingWatches(() => this.version());
  private seen = { dataVersion: -1, writes: 0, version: 0 };

  protected constructor(db: Database.Database, file: string, readonly: boolean, now: () => number) {
    this.db = db;
    this.file = file;
    this.readonly = readonly;
    this.now = now;
    this.sql = prepareStatements(db);
    this.reads = prepareReadStatements(db);
    this.leases = prepareLeaseStatements(db, file);
  }

  getExperiment(name: string): Promise<ExperimentRecord | undefined> {
    return this.guard(`read experiment '${name}'`, () => {
      const row = this.sql.getExperiment.get(name);
      return row && toExperiment(row);
    });
  }

  listExperiments(): Promise<ExperimentRecord[]> {
    return this.guard('list experiments', () => this.sql.listExperiments.all().map(toExperiment));
  }

  getTrial(experiment: string, trialId: string): Promise<TrialRecord | undefined> {
    return this.guard(`read trial ${trialId} of experiment '${experiment}'`, () => {
      const row = this.sql.getTrial.get(experiment, trialId);
      return row && toTrial(row);
    });
  }

  listTrials(experiment: string): Promise<TrialRecord[]> {
    return this.guard(`list the trials of experiment '${experiment}'`, () =>
      this.sql.listTrials.all(experiment).map(toTrial),
    );
  }

  countTrials(experiment: string): Promise<Record<TrialState, number>> {
    return this.guard(`count the trials of experiment '${experiment}'`, () => {
      const counts = noCounts();
      for (const row of this.sql.countTrials.all(experiment)) counts[row.state] = row.n;
      return counts;
    });
  }

  countTrialsByExperiment(): Promise<Map<string, Record<TrialState, number>>> {
    return this.guard('count the trials of every experiment', () => {
      const out = new Map<string, Record<TrialState, number>>();
      for (const r of this.reads.countByExperiment.all()) {
        let counts = out.get(r.experiment);
        if (!counts) out.set(r.experiment, (counts = noCounts()));
        counts[r.state] = r.n;
      }
      return out;
    });
  }

  listEpochs(experiment: string, trialId: string): Promise<EpochRecord[]> {
    return this.guard(`list the epochs of trial ${trialId} of experiment '${experiment}'`, () =>
      this.sql.listEpochs.all(experiment, trialId).map(toEpoch),
    );
  }

  countEpochs(experiment: string): Promise<number> {
    return this.guard(`count the epochs of experiment '${experiment}'`, () => {
      return this.reads.countEpochs.get(experiment)!.n;
    });
  }

  leaderboard(experiment: string, options: LeaderboardOptions = {}): Promise<TrialRecord[]> {
    return this.guard(`rank the trials of experiment '${experiment}'`, () => {
      const { top } = options;
      if (top !== undefined && (!Number.isSafeInteger(top) || top < 0)) {
        throw new StoreError(`top must be a non-negative integer, got ${top}`, { file: this.file });
      }
      const { goal } = this.metricOf(experiment);
      const statement = goal === 'minimize' ? this.sql.leaderboardAsc : this.sql.leaderboardDesc;
      return statement.all({ experiment, limit: top ?? -1 }).map(toTrial);
    });
  }

  trialPage(experiment: string, query: TrialPageQuery): Promise<TrialPage> {
    return this.guard(`read a page of the trials of experiment '${experiment}'`, () => {
      const row = this.sql.getExperiment.get(experiment);
      if (!row) return { total: 0, rows: [] };
      const space = JSON.parse(row.space) as SearchSpace;
      const page = readTrialPage(this.db, experiment, space, query);
      if (!page) throw new StoreError(trialSortProblem(query.sort, space)!, { file: this.file });
      return page;
    });
  }

  errorGroups(experiment: string, limit: number): Promise<ErrorGroup[]> {
    return this.guard(`group the errors of experiment '${experiment}'`, () =>
      this.reads.errorGroups.all(experiment, limit),
    );
  }

  stoppedTrials(experiment: string): Promise<{ index: number; epochs: number }[]> {
    return this.guard(`list the stopped trials of experiment '${experiment}'`, () =>
      this.reads.stopped.all(experiment),
    );
  }

  lastEpochMetricNames(experiment: string): Promise<string[]> {
    return this.guard(`read the last epoch of experiment '${experiment}'`, () => {
      const row = this.reads.lastEpochMetrics.get({ experiment });
      return row ? Object.keys(decodeMetrics(row.metrics)) : [];
    });
  }

  finishedOrder(experiment: string): Promise<FinishedOrderRow[]> {
    return this.guard(`list the finished trials of experiment '${experiment}'`, () =>
      this.reads.finishedOrder.all(experiment),
    );
  }

  finishedParams(experiment: string): Promise<FinishedParamsRow[]> {
    return this.guard(`list the finished trials of experiment '${experiment}'`, () =>
      this.reads.finishedParams
        .all(experiment)
        .map((r) => ({ ...r, params: JSON.parse(r.params) as Record<string, ParamValue> })),
    );
  }

  metricAtEpoch(experiment: string, epoch: number, metric: string): Promise<Map<string, number>> {
    return this.guard(`read ${metric} at epoch ${epoch} of experiment '${experiment}'`, () => {
      const out = new Map<string, number>();
      for (const r of this.reads.epochMetrics.all(experiment, epoch)) {
        const v = decodeMetrics(r.metrics)[metric];
        if (typeof v === 'number') out.set(r.trial_id, v);
      }
      return out;
    });
  }

  lastEpochRow(): Promise<number> {
    return this.guard('read the last epoch row', () => this.reads.lastEpochRow.get()!.id ?? 0);
  }

  listRuns(experiment: string): Promise<RunInfo[]> {
    return this.guard(`list the runs of experiment '${experiment}'`, () =>
      this.sql.listRuns.all(experiment).map((row) => JSON.parse(row.info) as RunInfo),
    );
  }

  listModels(experiment: string): Promise<ModelRecord[]> {
    return this.guard(`list the models of experiment '${experiment}'`, () =>
      this.sql.listModels.all(experiment),
    );
  }

  getLease(experiment: string): Promise<OwnerLease | undefined> {
    return this.guard(`read the owner lease of experiment '${experiment}'`, () =>
      this.leases.get(experiment),
    );
  }

  version(): Promise<number> {
    return this.guard('read the data version', () => {
      const dataVersion = this.db.pragma('data_version', { simple: true }) as number;
      const seen = this.seen;
      if (dataVersion !== seen.dataVersion || this.writes !== seen.writes) {
        this.seen = { dataVersion, writes: this.writes, version: seen.version + 1 };
      }
      return this.seen.version;
    });
  }

  watch(listener: (change: StoreChange) => void, options?: WatchOptions): () => void {
    return this.watches.watch(listener, options);
  }

  /** Closes the connection (the last one to close checkpoints the WAL into the file). Idempotent. */
  close(): Promise<void> {
    this.watches.stopAll();
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  protected metricOf(experiment: string): { name: string; goal: Goal } {
    let metric = this.metrics.get(experiment);
    if (!metric) {
      metric = this.experimentOrThrow(experiment).space.metric;
      this.metrics.set(experiment, metric);
    }
    return metric;
  }

  protected experimentOrThrow(name: string): ExperimentRecord {
    const row = this.sql.getExperiment.get(name);
    if (!row) throw this.noExperiment(name);
    return toExperiment(row);
  }

  protected trialOrThrow(experiment: string, trialId: string): TrialRecord {
    const row = this.sql.getTrial.get(experiment, trialId);
    if (!row) {
      throw new StoreError(`no trial ${trialId} in experiment '${experiment}' in ${this.file}`, {
        file: this.file,
      });
    }
    return toTrial(row);
  }

  protected noExperiment(name: string): StoreError {
    return new StoreError(`no experiment '${name}' in ${this.file}`, { file: this.file });
  }

  /** Runs `fn` now; any failure becomes a rejection, a StoreError naming the file and the action. */
  protected guard<T>(action: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(this.storeError(action, err));
    }
  }

  protected storeError(action: string, err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    return new StoreError(`could not ${action} in ${this.file}: ${message(err)}`, {
      cause: err,
      file: this.file,
    });
  }
}
