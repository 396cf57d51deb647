/**
 * The Store on one SQLite file (better-sqlite3, synchronous). WAL mode, so readers never block the writer
 * and several connections (processes) can share the file; every write is idempotent by
 * (experiment, trial_id[, epoch]) and the first final result of a trial wins (docs/STORE.md).
 */
import { randomBytes } from 'node:crypto';
import { newBusId } from '../../shared/protocol/bus.js';
import { resolve } from 'node:path';

import Database from 'better-sqlite3';

import type { Goal, SearchSpace } from '../search-space/types.js';
import { checkDatabase, migrate, migratedCopy, SCHEMA_VERSION } from './migrations.js';
import { checkHeader } from './sqlite-header.js';
import { encodeMetrics, toEpoch, toExperiment, toTrial } from './sqlite-rows.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';
import { StoreError } from '../../shared/errors.js';
import { type LeaseClock, type OwnerClaim, type OwnerLease, OwnerLeaseError } from './owner-lease.js';
import { type LeaseStatements, prepareLeaseStatements } from './sqlite-lease.js';
import {
  TRIAL_STATES,
  type EpochRecord,
  type ExperimentRecord,
  type ExperimentStatus,
  type LeaderboardOptions,
  type ModelRecord,
  type NewTrial,
  type RunInfo,
  type Store,
  type TrialRecord,
  type TrialResult,
  type TrialState,
} from './types.js';

export interface SqliteStoreOptions {
  /** Open an existing, up-to-date hpo database without writing to it (no migrations, writes throw). */
  readonly?: boolean;
  /** Clock for created_at/updated_at/started_at/recorded_at, in ms since the epoch (default Date.now). */
  now?: () => number;
}

/** How long a statement waits for another connection's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sqliteCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

export class SqliteStore implements Store {
  /** Absolute path of the database file, or ':memory:'. */
  readonly file: string;
  readonly readonly: boolean;
  /** Schema versions applied by this open (empty when the file was up to date). */
  readonly appliedMigrations: readonly number[];

  private readonly db: Database.Database;
  private readonly now: () => number;
  /** Metric of each experiment seen (a space never changes once created). */
  private readonly metrics = new Map<string, { name: string; goal: Goal }>();

  private readonly sql: Statements;
  private readonly leases: LeaseStatements;

  /**
   * Opens (creating if needed) the hpo database at `path` (':memory:' for a private in-memory one) and
   * brings its schema up to date. Throws NotOurDatabaseError — without changing the file — for a file
   * that is not SQLite, an SQLite file of another application, or an hpo file of a newer schema; throws
   * StoreError for anything else (unreadable, directory missing, readonly on an empty file). Read-only,
   * a file of an older schema is never changed: the store reads an up-to-date copy in memory.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    if (path === '') throw new StoreError('no database file given');
    const memory = path === ':memory:';
    const file = memory ? path : resolve(path);
    const readonly = options.readonly ?? false;
    if (!memory) checkHeader(file);
    let db: Database.Database;
    try {
      db = new Database(file, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
    } catch (err) {
      throw new StoreError(`cannot open ${file}: ${message(err)}`, { cause: err, file });
    }
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Read-only checks first: nothing is written to a file that is not ours.
      const info = checkDatabase(db, file);
      let applied: number[] = [];
      if (readonly) {
        if (info.userVersion === 0) {
          throw new StoreError(`${file} is empty, not yet an hpo database`, { file });
        }
        if (info.userVersion < SCHEMA_VERSION) {
          // An older schema (e.g. a search of an older hpo, running or paused): read a private in-memory
          // copy brought up to date, so reading never rewrites the file under its owner.
          const copy = migratedCopy(db, file);
          db.close();
          return new SqliteStore(copy, file, true, [], options.now ?? Date.now);
        }
      } else {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      if (!readonly) applied = migrate(db, file);
      return new SqliteStore(db, file, readonly, applied, options.now ?? Date.now);
    } catch (err) {
      db.close();
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot open ${file}: ${message(err)}`, { cause: err, file });
    }
  }

  private constructor(
    db: Database.Database,
    file: string,
    readonly: boolean,
    applied: number[],
    now: () => number,
  ) {
    this.db = db;
    this.file = file;
    this.readonly = readonly;
    this.appliedMigrations = applied;
    this.now = now;
    this.sql = prepareStatements(db);
    this.leases = prepareLeaseStatements(db, file);
  }

  /**
   * Takes the experiment's owner lease for `claim`, or throws OwnerLeaseError (another driver's lease is
   * alive, or expired and `force` is false). Clock fields other than `now` come from `options`.
   */
  acquireLease(
    experiment: string,
    claim: OwnerClaim,
    options: Omit<LeaseClock, 'now'> & { force?: boolean },
  ): OwnerLease {
    try {
      return this.guard(`take the owner lease of experiment '${experiment}'`, () => {
        this.experimentOrThrow(experiment);
        const clock = { ...options, now: this.now() };
        return this.leases.acquire(experiment, claim, clock, options.force ?? false);
      });
    } catch (err) {
      // A refusal is not a store failure: it reaches the caller as is.
      if (err instanceof StoreError && err.cause instanceof OwnerLeaseError) throw err.cause;
      throw err;
    }
  }

  /** Renews the lease held with `token`; false when it is no longer ours (another driver took over). */
  heartbeatLease(experiment: string, token: string): boolean {
    return this.guard(`renew the owner lease of experiment '${experiment}'`, () =>
      this.leases.heartbeat(experiment, token, this.now()),
    );
  }

  releaseLease(experiment: string, token: string): void {
    this.guard(`release the owner lease of experiment '${experiment}'`, () =>
      this.leases.release(experiment, token),
    );
  }

  getLease(experiment: string): OwnerLease | undefined {
    return this.guard(`read the owner lease of experiment '${experiment}'`, () =>
      this.leases.get(experiment),
    );
  }

  createExperiment(name: string, space: SearchSpace, source: string): ExperimentRecord {
    return this.guard(`create experiment '${name}'`, () => {
      const now = this.now();
      const { changes } = this.sql.insertExperiment.run({
        name,
        bus_id: newBusId(),
        bus_secret: randomBytes(32).toString('hex'),
        space: JSON.stringify(space),
        source,
        now,
      });
      if (changes === 0) {
        throw new StoreError(
          `experiment '${name}' already exists in ${this.file} (use hpo resume ${name}, or another --name)`,
          { file: this.file },
        );
      }
      return this.experimentOrThrow(name);
    });
  }

  getExperiment(name: string): ExperimentRecord | undefined {
    return this.guard(`read experiment '${name}'`, () => {
      const row = this.sql.getExperiment.get(name);
      return row && toExperiment(row);
    });
  }

  listExperiments(): ExperimentRecord[] {
    return this.guard('list experiments', () => this.sql.listExperiments.all().map(toExperiment));
  }

  setExperimentStatus(name: string, status: ExperimentStatus): void {
    this.guard(`set the status of experiment '${name}'`, () => {
      const { changes } = this.sql.setExperimentStatus.run({ name, status, now: this.now() });
      if (changes === 0) throw this.noExperiment(name);
    });
  }

  addTrial(experiment: string, trial: NewTrial): TrialRecord {
    return this.guard(`add trial ${trial.trial_id} to experiment '${experiment}'`, () => {
      try {
        this.sql.insertTrial.run({
          experiment,
          trial_id: trial.trial_id,
          idx: trial.index,
          params: JSON.stringify(trial.params),
          seed: trial.seed,
          now: this.now(),
        });
      } catch (err) {
        const code = sqliteCode(err);
        if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw this.noExperiment(experiment);
        if (code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new StoreError(
            `trial index ${trial.index} of experiment '${experiment}' in ${this.file} already belongs to ` +
              `another trial than ${trial.trial_id}`,
            { cause: err, file: this.file },
          );
        }
        throw err;
      }
      return this.trialOrThrow(experiment, trial.trial_id);
    });
  }

  startTrial(
    experiment: string,
    trialId: string,
    worker: string | null,
    state: 'queued' | 'running' = 'running',
  ): number | null {
    return this.guard(`start trial ${trialId} of experiment '${experiment}'`, () => {
      const row = this.sql.startTrial.get({ experiment, trial_id: trialId, worker, now: this.now(), state });
      if (row) return row.attempt;
      this.trialOrThrow(experiment, trialId); // unknown trial: throw; otherwise it is final
      return null;
    });
  }

  markRunning(experiment: string, trialId: string, attempt: number, worker: string | null): boolean {
    return this.guard(`mark trial ${trialId} of experiment '${experiment}' running`, () => {
      const { changes } = this.sql.markRunning.run({
        experiment,
        trial_id: trialId,
        attempt,
        worker,
        now: this.now(),
      });
      return changes > 0;
    });
  }

  recordEpoch(experiment: string, trialId: string, epoch: number, metrics: Record<string, number>): void {
    this.guard(`record epoch ${epoch} of trial ${trialId} of experiment '${experiment}'`, () => {
      if (!Number.isSafeInteger(epoch) || epoch < 0) {
        throw new StoreError(`epoch must be a non-negative integer, got ${epoch}`, { file: this.file });
      }
      const key = { experiment, trial_id: trialId };
      const outcome = this.sql.recordEpoch.immediate(key, epoch, encodeMetrics(metrics), this.now());
      if (outcome === 'no-trial') this.trialOrThrow(experiment, trialId);
    });
  }

  recordResult(experiment: string, trialId: string, result: TrialResult): boolean {
    return this.guard(`record the result of trial ${trialId} of experiment '${experiment}'`, () => {
      const metric = this.metricOf(experiment);
      const raw = result.metrics[metric.name];
      const value = typeof raw === 'number' && !Number.isNaN(raw) ? raw : null;
      const { changes } = this.sql.recordResult.run({
        experiment,
        trial_id: trialId,
        state: result.state,
        attempt: result.attempt,
        worker: result.worker,
        backend: result.backend ?? null,
        started_at: result.started_at,
        ended_at: result.ended_at,
        value,
        metrics: encodeMetrics(result.metrics),
        epochs: result.epochs,
        error: result.error ?? null,
      });
      if (changes > 0) return true;
      this.trialOrThrow(experiment, trialId);
      return false;
    });
  }

  requeueRunning(experiment: string): number {
    return this.guard(`requeue the running trials of experiment '${experiment}'`, () => {
      return this.sql.requeueRunning.run(experiment).changes;
    });
  }

  getTrial(experiment: string, trialId: string): TrialRecord | undefined {
    return this.guard(`read trial ${trialId} of experiment '${experiment}'`, () => {
      const row = this.sql.getTrial.get(experiment, trialId);
      return row && toTrial(row);
    });
  }

  listTrials(experiment: string): TrialRecord[] {
    return this.guard(`list the trials of experiment '${experiment}'`, () =>
      this.sql.listTrials.all(experiment).map(toTrial),
    );
  }

  countTrials(experiment: string): Record<TrialState, number> {
    return this.guard(`count the trials of experiment '${experiment}'`, () => {
      const counts = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as Record<TrialState, number>;
      for (const row of this.sql.countTrials.all(experiment)) counts[row.state] = row.n;
      return counts;
    });
  }

  listEpochs(experiment: string, trialId: string): EpochRecord[] {
    return this.guard(`list the epochs of trial ${trialId} of experiment '${experiment}'`, () =>
      this.sql.listEpochs.all(experiment, trialId).map(toEpoch),
    );
  }

  leaderboard(experiment: string, options: LeaderboardOptions = {}): TrialRecord[] {
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

  recordRun(experiment: string, info: RunInfo): void {
    this.guard(`record a run of experiment '${experiment}'`, () => {
      this.experimentOrThrow(experiment);
      this.sql.insertRun.run({ experiment, started_at: info.started_at, info: JSON.stringify(info) });
    });
  }

  listRuns(experiment: string): RunInfo[] {
    return this.guard(`list the runs of experiment '${experiment}'`, () =>
      this.sql.listRuns.all(experiment).map((row) => JSON.parse(row.info) as RunInfo),
    );
  }

  recordModel(experiment: string, model: ModelRecord): void {
    this.guard(`record the model of trial ${model.trial_id} of experiment '${experiment}'`, () => {
      this.trialOrThrow(experiment, model.trial_id);
      this.sql.upsertModel.run({ experiment, ...model });
    });
  }

  listModels(experiment: string): ModelRecord[] {
    return this.guard(`list the models of experiment '${experiment}'`, () =>
      this.sql.listModels.all(experiment),
    );
  }

  deleteModel(experiment: string, trialId: string): void {
    this.guard(`forget the model of trial ${trialId} of experiment '${experiment}'`, () => {
      this.sql.deleteModel.run(experiment, trialId);
    });
  }

  releaseSpace(): void {
    try {
      if (!this.readonly) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // best effort: the caller's next write reports what is still wrong
    }
  }

  /** Closes the connection (the last one to close checkpoints the WAL into the file). Idempotent. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private metricOf(experiment: string): { name: string; goal: Goal } {
    let metric = this.metrics.get(experiment);
    if (!metric) {
      metric = this.experimentOrThrow(experiment).space.metric;
      this.metrics.set(experiment, metric);
    }
    return metric;
  }

  private experimentOrThrow(name: string): ExperimentRecord {
    const row = this.sql.getExperiment.get(name);
    if (!row) throw this.noExperiment(name);
    return toExperiment(row);
  }

  private trialOrThrow(experiment: string, trialId: string): TrialRecord {
    const row = this.sql.getTrial.get(experiment, trialId);
    if (!row) {
      throw new StoreError(`no trial ${trialId} in experiment '${experiment}' in ${this.file}`, {
        file: this.file,
      });
    }
    return toTrial(row);
  }

  private noExperiment(name: string): StoreError {
    return new StoreError(`no experiment '${name}' in ${this.file}`, { file: this.file });
  }

  /** Runs `fn`; any failure that is not already a StoreError becomes one naming the file and the action. */
  private guard<T>(action: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`could not ${action} in ${this.file}: ${message(err)}`, {
        cause: err,
        file: this.file,
      });
    }
  }
}
