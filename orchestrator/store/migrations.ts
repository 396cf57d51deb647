/**
 * Schema of the SQLite store and how a database file gets there.
 *
 * The file is marked as hpo's with `PRAGMA application_id` and its schema version is `PRAGMA user_version`:
 * version k means MIGRATIONS[0..k-1] have been applied. Opening a file applies the missing steps k+1..n in
 * order, each in its own write transaction that re-reads the version first, so a step runs exactly once
 * even when two processes open the same file at the same time. Add a migration by appending a step;
 * never edit or reorder a released one (docs/STORE.md).
 */
import Database from 'better-sqlite3';

import { FINAL_STATES } from './types.js';
import { NotOurDatabaseError, StoreError } from '../../shared/errors.js';

/** 'HPO1' — the application_id of every hpo database. */
export const APPLICATION_ID = 0x48504f31;

export interface Migration {
  /** 1-based: applying this step brings the file to this version. Must equal its position + 1. */
  readonly version: number;
  readonly description: string;
  /** One or more SQL statements, run with `exec` inside the step's transaction. */
  readonly sql: string;
}

const TRIAL_STATES = ['pending', 'running', ...FINAL_STATES].map((s) => `'${s}'`).join(', ');
/** Since version 5: `queued` (dispatched over the bus, not yet started by a worker). */
const TRIAL_STATES_V5 = ['pending', 'queued', 'running', ...FINAL_STATES].map((s) => `'${s}'`).join(', ');
const TRIAL_COLUMNS =
  'experiment, trial_id, idx, params, seed, state, attempt, worker, backend, created_at, started_at, ' +
  'ended_at, value, metrics, epochs, error';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'experiments, trials and epochs',
    sql: `
      CREATE TABLE experiments (
        name       TEXT NOT NULL PRIMARY KEY,
        space      TEXT NOT NULL,  -- SearchSpace as JSON
        source     TEXT NOT NULL,  -- the search file's text
        status     TEXT NOT NULL CHECK (status IN ('running', 'interrupted', 'completed')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE trials (
        experiment TEXT NOT NULL REFERENCES experiments (name) ON DELETE CASCADE,
        trial_id   TEXT NOT NULL,
        idx        INTEGER NOT NULL,  -- 0-based order of proposal
        params     TEXT NOT NULL,     -- TrialParams as JSON
        seed       INTEGER NOT NULL,
        state      TEXT NOT NULL CHECK (state IN (${TRIAL_STATES})),
        attempt    INTEGER NOT NULL DEFAULT 0,
        worker     TEXT,
        backend    TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at   INTEGER,
        value      REAL,              -- metrics[space.metric.name] of the final result
        metrics    TEXT,              -- final metrics as JSON
        epochs     INTEGER NOT NULL DEFAULT 0,
        error      TEXT,
        PRIMARY KEY (experiment, trial_id),
        UNIQUE (experiment, idx)
      ) STRICT;
      CREATE INDEX trials_by_state ON trials (experiment, state);

      CREATE TABLE epochs (
        experiment  TEXT NOT NULL,
        trial_id    TEXT NOT NULL,
        epoch       INTEGER NOT NULL,
        metrics     TEXT NOT NULL,    -- metrics as JSON
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (experiment, trial_id, epoch),
        FOREIGN KEY (experiment, trial_id) REFERENCES trials (experiment, trial_id) ON DELETE CASCADE
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'runs (where and on what each search/resume ran) and saved models',
    sql: `
      CREATE TABLE runs (
        experiment TEXT NOT NULL REFERENCES experiments (name) ON DELETE CASCADE,
        started_at INTEGER NOT NULL,
        info       TEXT NOT NULL,  -- RunInfo as JSON: host, versions, data set, backend choice
        PRIMARY KEY (experiment, started_at)
      ) STRICT;

      CREATE TABLE models (
        experiment TEXT NOT NULL,
        trial_id   TEXT NOT NULL,
        path       TEXT NOT NULL,  -- folder holding model.json, weights.bin, hpo-model.json
        worker     TEXT,           -- who wrote it (the path is on that machine)
        saved_at   INTEGER NOT NULL,
        PRIMARY KEY (experiment, trial_id),
        FOREIGN KEY (experiment, trial_id) REFERENCES trials (experiment, trial_id) ON DELETE CASCADE
      ) STRICT;
    `,
  },
  {
    version: 3,
    description: 'owner lease: the process driving each experiment and its last heartbeat',
    sql: `
      CREATE TABLE owners (
        experiment   TEXT NOT NULL PRIMARY KEY REFERENCES experiments (name) ON DELETE CASCADE,
        token        TEXT NOT NULL,     -- random per driver process
        pid          INTEGER NOT NULL,
        host         TEXT NOT NULL,
        acquired_at  INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    description: 'experiment bus ids and token secrets',
    sql: `
      ALTER TABLE experiments ADD COLUMN bus_id TEXT;      -- random id on the bus (subjects, consumers)
      ALTER TABLE experiments ADD COLUMN bus_secret TEXT;  -- keys the delivery tokens; never sent
      UPDATE experiments SET bus_id = lower(hex(randomblob(8))), bus_secret = lower(hex(randomblob(32)));
      CREATE UNIQUE INDEX experiments_by_bus_id ON experiments (bus_id);
    `,
  },
  {
    version: 5,
    description: "trial state 'queued' (dispatched over the bus, not yet started by a worker)",
    // SQLite cannot change a CHECK constraint in place: the table is rebuilt (docs: "Making Other Kinds
    // Of Table Schema Changes"), with foreign keys off (migrate() turns them off around its steps) so
    // dropping the old table does not cascade into epochs and models.
    sql: `
      CREATE TABLE trials_v5 (
        experiment TEXT NOT NULL REFERENCES experiments (name) ON DELETE CASCADE,
        trial_id   TEXT NOT NULL,
        idx        INTEGER NOT NULL,
        params     TEXT NOT NULL,
        seed       INTEGER NOT NULL,
        state      TEXT NOT NULL CHECK (state IN (${TRIAL_STATES_V5})),
        attempt    INTEGER NOT NULL DEFAULT 0,
        worker     TEXT,
        backend    TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at   INTEGER,
        value      REAL,
        metrics    TEXT,
        epochs     INTEGER NOT NULL DEFAULT 0,
        error      TEXT,
        PRIMARY KEY (experiment, trial_id),
        UNIQUE (experiment, idx)
      ) STRICT;
      INSERT INTO trials_v5 (${TRIAL_COLUMNS}) SELECT ${TRIAL_COLUMNS} FROM trials;
      DROP TABLE trials;
      ALTER TABLE trials_v5 RENAME TO trials;
      CREATE INDEX trials_by_state ON trials (experiment, state);
    `,
  },
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/** What a database file says about itself. */
export interface DatabaseInfo {
  applicationId: number;
  userVersion: number;
  /** Names of the tables, indexes, views and triggers in the file (empty for a new file). */
  objects: string[];
}

function isSqliteError(err: unknown, code: string): boolean {
  return err instanceof Error && (err as Error & { code?: unknown }).code === code;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Reads the file's header pragmas and schema; read-only. Throws NotOurDatabaseError for a non-SQLite file. */
export function inspectDatabase(db: Database.Database, file: string): DatabaseInfo {
  try {
    // One read transaction, so the three reads see one snapshot: without it, another connection's
    // migration can commit between them (tables seen, application_id not yet) and the file looks foreign.
    return db.transaction((): DatabaseInfo => {
      const applicationId = db.pragma('application_id', { simple: true }) as number;
      const userVersion = db.pragma('user_version', { simple: true }) as number;
      const objects = db
        .prepare<[], { name: string }>(
          `SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name`,
        )
        .all()
        .map((row) => row.name);
      return { applicationId, userVersion, objects };
    })();
  } catch (err) {
    if (isSqliteError(err, 'SQLITE_NOTADB')) throw notSqlite(file, err);
    throw new StoreError(`cannot read ${file}: ${message(err)}`, { cause: err, file });
  }
}

export function notSqlite(file: string, cause?: unknown): NotOurDatabaseError {
  return new NotOurDatabaseError(
    `${file} is not an hpo database: it is not an SQLite file (nothing was changed)`,
    'not-sqlite',
    file,
    { cause },
  );
}

function hex(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Throws NotOurDatabaseError unless the file is empty (becomes ours) or is an hpo database whose version
 * this code knows (`schemaVersion` or older). Reads only.
 */
export function checkDatabase(
  db: Database.Database,
  file: string,
  schemaVersion: number = SCHEMA_VERSION,
): DatabaseInfo {
  const info = inspectDatabase(db, file);
  const { applicationId, userVersion, objects } = info;
  if (applicationId === APPLICATION_ID) {
    if (userVersion > schemaVersion) {
      throw new NotOurDatabaseError(
        `${file} is an hpo database of schema version ${userVersion}, newer than this hpo understands ` +
          `(up to ${schemaVersion}): upgrade hpo to open it (nothing was changed)`,
        'newer-schema',
        file,
      );
    }
    return info;
  }
  if (applicationId === 0 && userVersion === 0 && objects.length === 0) return info;
  const what: string[] = [];
  if (applicationId !== 0) what.push(`application_id ${hex(applicationId)}`);
  if (userVersion !== 0) what.push(`user_version ${userVersion}`);
  if (objects.length > 0) {
    const shown =
      objects.slice(0, 5).join(', ') + (objects.length > 5 ? `, … (${objects.length} in all)` : '');
    what.push(`contains ${shown}`);
  }
  throw new NotOurDatabaseError(
    `${file} is not an hpo database: it is an SQLite database of another application (${what.join('; ')}) ` +
      `(nothing was changed)`,
    'foreign',
    file,
  );
}

function validate(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError(`migration list out of order: position ${i + 1} holds version ${m.version}`);
    }
  });
}

/**
 * Brings the file to version `migrations.length`, applying each missing step in its own IMMEDIATE
 * transaction (which re-checks the file first). Returns the versions applied, in order (empty when the
 * file was up to date; then nothing is written). Throws NotOurDatabaseError before writing anything if the
 * file is not ours, and StoreError (rolled back) if a step fails.
 */
export function migrate(
  db: Database.Database,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  validate(migrations);
  const target = migrations.length;
  const initial = checkDatabase(db, file, target);
  const applied: number[] = [];
  if (initial.userVersion >= target && initial.applicationId === APPLICATION_ID) return applied;
  // Off while steps run (a table rebuild must not cascade), restored after; a no-op inside a transaction.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    applySteps(db, file, migrations, initial.userVersion, applied);
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  return applied;
}

function applySteps(
  db: Database.Database,
  file: string,
  migrations: readonly Migration[],
  from: number,
  applied: number[],
): void {
  const target = migrations.length;
  for (const step of migrations) {
    if (step.version <= from) continue;
    const apply = db.transaction((): boolean => {
      // Another connection may have migrated (or claimed) the file since we looked.
      const info = checkDatabase(db, file, target);
      if (info.userVersion >= step.version) return false;
      if (info.userVersion !== step.version - 1) {
        throw new StoreError(
          `${file} is at schema version ${info.userVersion}, cannot apply ${step.version}`,
          {
            file,
          },
        );
      }
      db.exec(step.sql);
      if (info.applicationId !== APPLICATION_ID) db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${step.version}`);
      return true;
    });
    try {
      if (apply.immediate()) applied.push(step.version);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(
        `migration ${step.version} (${step.description}) of ${file} failed, rolled back: ${message(err)}`,
        { cause: err, file },
      );
    }
  }
}

/** The database as `db` sees it, copied into memory and migrated there; writes to it are refused. */
export function migratedCopy(db: Database.Database, file: string): Database.Database {
  const image = db.serialize();
  // Header bytes 18-19 say WAL for a file in WAL mode, which an in-memory database cannot open.
  image[18] = 1;
  image[19] = 1;
  const copy = new Database(image);
  try {
    copy.pragma('foreign_keys = ON');
    migrate(copy, file);
    copy.pragma('query_only = ON');
    return copy;
  } catch (err) {
    copy.close();
    throw err;
  }
}
