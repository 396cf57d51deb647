/**
 * The Store on one SQLite file (better-sqlite3, synchronous underneath: each call's work is done by the
 * time its promise exists). WAL mode, so readers never block the writer and several connections
 * (processes) can share the file; every write is idempotent by (experiment, trial_id[, epoch]) and the
 * first final result of a trial wins (docs/STORE.md). The reads and the change feed: sqlite-reader.ts.
 */
import { randomBytes } from 'node:crypto';
import { newBusId } from '../../shared/protocol/bus.js';
import { resolve } from 'node:path';

import Database from 'better-sqlite3';

import type { SearchSpace } from '../search-space/types.js';
import { checkDatabase, migrate, migratedCopy, SCHEMA_VERSION } from './migrations.js';
import { checkHeader } from './sqlite-header.js';
import { encodeMetrics } from './sqlite-rows.js';
import { SqliteStoreReader } from './sqlite-reader.js';
import { StoreError } from '../../shared/errors.js';
import { type OwnerClaim, type OwnerLease, OwnerLeaseError } from './owner-lease.js';
import type {
  ExperimentRecord,
  ExperimentStatus,
  LeaseOptions,
  ModelRecord,
  NewTrial,
  RunInfo,
  Store,
  TrialRecord,
  TrialResult,
} from './types.js';

export interface SqliteStoreOptions {
  /** Open an existing, up-to-date hpo database without writing to it (no migrations, writes throw). */
  readonly?: boolean;
  /**
   * Read-only and live (a viewer of a file another process writes): a file of an older schema is refused
   * instead of read through a copy in memory, which would never see the writer's changes.
   */
  live?: boolean;
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

/** Opens the connection; a file that is not ours is refused before anything is written to it. */
function openConnection(file: string, readonly: boolean): Database.Database {
  if (file !== ':memory:') checkHeader(file);
  try {
    return new Database(file, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw new StoreError(`cannot open ${file}: ${message(err)}`, { cause: err, file });
  }
}

export class SqliteStore extends SqliteStoreReader implements Store {
  /** Schema versions applied by this open (empty when the file was up to date). */
  readonly appliedMigrations: readonly number[];

  /**
   * Opens (creating if needed) the hpo database at `path` (':memory:' for a private in-memory one) and
   * brings its schema up to date. Throws NotOurDatabaseError — without changing the file — for a file
   * that is not SQLite, an SQLite file of another application, or an hpo file of a newer schema; throws
   * StoreError for anything else (unreadable, directory missing, readonly on an empty file). Read-only,
   * a file of an older schema is never changed: the store reads an up-to-date copy in memory.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    if (path === '') throw new StoreError('no database file given');
    const file = path === ':memory:' ? path : resolve(path);
    const readonly = options.readonly ?? false;
    const now = options.now ?? Date.now;
    const db = openConnection(file, readonly);
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Read-only checks first: nothing is written to a file that is not ours.
      const info = checkDatabase(db, file);
      if (readonly) {
        if (info.userVersion === 0) {
          throw new StoreError(`${file} is empty, not yet an hpo database`, { file });
        }
        if (info.userVersion < SCHEMA_VERSION && options.live) {
          throw new StoreError(
            `${file} is at schema version ${info.userVersion}; open it once with hpo (e.g. hpo experiments --db ${path}) to upgrade it`,
            { file },
          );
        }
        if (info.userVersion < SCHEMA_VERSION) {
          // An older schema (e.g. a search of an older hpo, running or paused): read a private in-memory
          // copy brought up to date, so reading never rewrites the file under its owner.
          const copy = migratedCopy(db, file);
          db.close();
          return new SqliteStore(copy, file, true, [], now);
        }
      } else {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      const applied = readonly ? [] : migrate(db, file);
      return new SqliteStore(db, file, readonly, applied, now);
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
    super(db, file, readonly, now);
    this.appliedMigrations = applied;
  }

  acquireLease(experiment: string, claim: OwnerClaim, options: LeaseOptions): Promise<OwnerLease> {
    return this.write(`take the owner lease of experiment '${experiment}'`, () => {
      this.experimentOrThrow(experiment);
      const clock = { ...options, now: this.now() };
      return this.leases.acquire(experiment, claim, clock, options.force ?? false);
    }).catch((err: unknown) => {
      // A refusal is not a store failure: it reaches the caller as is.
      throw err instanceof StoreError && err.cause instanceof OwnerLeaseError ? err.cause : err;
    });
  }

  heartbeatLease(experiment: string, token: string): Promise<boolean> {
    return this.write(`renew the owner lease of experiment '${experiment}'`, () =>
      this.leases.heartbeat(experiment, token, this.now()),
    );
  }

  releaseLease(experiment: string, token: string): Promise<void> {
    return this.write(`release the owner lease of experiment '${experiment}'`, () =>
      this.leases.release(experiment, token),
    );
  }

  createExperiment(name: string, space: SearchSpace, source: string): Promise<ExperimentRecord> {
    return this.write(`create experiment '${name}'`, () => {
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

  setExperimentStatus(name: string, status: ExperimentStatus): Promise<void> {
    return this.write(`set the status of experiment '${name}'`, () => {
      const { changes } = this.sql.setExperimentStatus.run({ name, status, now: this.now() });
      if (changes === 0) throw this.noExperiment(name);
    });
  }

  addTrial(experiment: string, trial: NewTrial): Promise<TrialRecord> {
    return this.write(`add trial ${trial.trial_id} to experiment '${experiment}'`, () => {
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
  ): Promise<number | null> {
    return this.write(`start trial ${trialId} of experiment '${experiment}'`, () => {
      const row = this.sql.startTrial.get({ experiment, trial_id: trialId, worker, now: this.now(), state });
      if (row) return row.attempt;
      this.trialOrThrow(experiment, trialId); // unknown trial: throw; otherwise it is final
      return null;
    });
  }

  markRunning(experiment: string, trialId: string, attempt: number, worker: string | null): Promise<boolean> {
    return this.write(`mark trial ${trialId} of experiment '${experiment}' running`, () => {
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

  recordEpoch(
    experiment: string,
    trialId: string,
    epoch: number,
    metrics: Record<string, number>,
  ): Promise<void> {
    return this.write(`record epoch ${epoch} of trial ${trialId} of experiment '${experiment}'`, () => {
      if (!Number.isSafeInteger(epoch) || epoch < 0) {
        throw new StoreError(`epoch must be a non-negative integer, got ${epoch}`, { file: this.file });
      }
      const key = { experiment, trial_id: trialId };
      const outcome = this.sql.recordEpoch.immediate(key, epoch, encodeMetrics(metrics), this.now());
      if (outcome === 'no-trial') this.trialOrThrow(experiment, trialId);
    });
  }

  recordResult(experiment: string, trialId: string, result: TrialResult): Promise<boolean> {
    return this.write(`record the result of trial ${trialId} of experiment '${experiment}'`, () => {
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

  requeueRunning(experiment: string): Promise<number> {
    return this.write(`requeue the running trials of experiment '${experiment}'`, () => {
      return this.sql.requeueRunning.run(experiment).changes;
    });
  }

  recordRun(experiment: string, info: RunInfo): Promise<void> {
    return this.write(`record a run of experiment '${experiment}'`, () => {
      this.experimentOrThrow(experiment);
      this.sql.insertRun.run({ experiment, started_at: info.started_at, info: JSON.stringify(info) });
    });
  }

  recordModel(experiment: string, model: ModelRecord): Promise<void> {
    return this.write(`record the model of trial ${model.trial_id} of experiment '${experiment}'`, () => {
      this.trialOrThrow(experiment, model.trial_id);
      this.sql.upsertModel.run({ experiment, ...model });
    });
  }

  deleteModel(experiment: string, trialId: string): Promise<void> {
    return this.write(`forget the model of trial ${trialId} of experiment '${experiment}'`, () => {
      this.sql.deleteModel.run(experiment, trialId);
    });
  }

  releaseSpace(): Promise<void> {
    try {
      if (!this.readonly) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // best effort: the caller's next write reports what is still wrong
    }
    return Promise.resolve();
  }

  /** A write: guarded like a read, and counted for the change feed (data_version ignores our own). */
  private write<T>(action: string, fn: () => T): Promise<T> {
    this.writes++;
    return this.guard(action, fn);
  }
}
