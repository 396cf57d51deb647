/** The prepared SQL statements of SqliteStore (docs/STORE.md: idempotent writes, first final result wins). */
import type Database from 'better-sqlite3';

import type { EpochRow, ExperimentRow, TrialRow } from './sqlite-rows.js';
import { FINAL_STATES, type ModelRecord, type TrialState } from './types.js';

const FINAL_SQL = FINAL_STATES.map((s) => `'${s}'`).join(', ');
const TRIAL_KEY = 'experiment = @experiment AND trial_id = @trial_id';

export type Key = { experiment: string; trial_id: string };

export type Statements = ReturnType<typeof prepareExperimentStatements> &
  ReturnType<typeof prepareTrialStatements> &
  ReturnType<typeof prepareOutcomeStatements> &
  ReturnType<typeof prepareRecordStatements>;

export function prepareStatements(db: Database.Database): Statements {
  return {
    ...prepareExperimentStatements(db),
    ...prepareTrialStatements(db),
    ...prepareOutcomeStatements(db),
    ...prepareRecordStatements(db),
  };
}

function prepareExperimentStatements(db: Database.Database) {
  return {
    insertExperiment: db.prepare<{
      name: string;
      bus_id: string;
      bus_secret: string;
      space: string;
      source: string;
      now: number;
    }>(
      `INSERT INTO experiments (name, bus_id, bus_secret, space, source, status, created_at, updated_at)
       VALUES (@name, @bus_id, @bus_secret, @space, @source, 'running', @now, @now)
       ON CONFLICT (name) DO NOTHING`,
    ),
    getExperiment: db.prepare<[string], ExperimentRow>(`SELECT * FROM experiments WHERE name = ?`),
    listExperiments: db.prepare<[], ExperimentRow>(`SELECT * FROM experiments ORDER BY created_at, name`),
    setExperimentStatus: db.prepare<{ name: string; status: string; now: number }>(
      `UPDATE experiments SET status = @status, updated_at = @now WHERE name = @name`,
    ),
  };
}

function prepareTrialStatements(db: Database.Database) {
  return {
    insertTrial: db.prepare<{
      experiment: string;
      trial_id: string;
      idx: number;
      params: string;
      seed: number;
      now: number;
    }>(
      `INSERT INTO trials (experiment, trial_id, idx, params, seed, state, attempt, created_at)
       VALUES (@experiment, @trial_id, @idx, @params, @seed, 'pending', 0, @now)
       ON CONFLICT (experiment, trial_id) DO NOTHING`,
    ),
    getTrial: db.prepare<[string, string], TrialRow>(
      `SELECT * FROM trials WHERE experiment = ? AND trial_id = ?`,
    ),
    listTrials: db.prepare<[string], TrialRow>(
      `SELECT * FROM trials WHERE experiment = ? ORDER BY idx, trial_id`,
    ),
    countTrials: db.prepare<[string], { state: TrialState; n: number }>(
      `SELECT state, COUNT(*) AS n FROM trials WHERE experiment = ? GROUP BY state`,
    ),
    // pending -> queued / running, and queued / running -> again (a re-dispatch): either way a new attempt.
    startTrial: db.prepare<
      Key & { worker: string | null; now: number; state: 'queued' | 'running' },
      { attempt: number }
    >(
      `UPDATE trials
       SET state = @state, attempt = attempt + 1, worker = @worker, started_at = @now, ended_at = NULL
       WHERE ${TRIAL_KEY} AND state IN ('pending', 'queued', 'running')
       RETURNING attempt`,
    ),
    markRunning: db.prepare<Key & { attempt: number; worker: string | null; now: number }>(
      `UPDATE trials SET state = 'running', worker = @worker, started_at = @now
       WHERE ${TRIAL_KEY} AND state = 'queued' AND attempt = @attempt`,
    ),
  };
}

/** Epochs, results and requeueing: the writes whose order makes the first final result win. */
function prepareOutcomeStatements(db: Database.Database) {
  const stateOf = db.prepare<Key, { state: string }>(`SELECT state FROM trials WHERE ${TRIAL_KEY}`);
  const upsertEpoch = db.prepare<Key & { epoch: number; metrics: string; now: number }>(
    `INSERT INTO epochs (experiment, trial_id, epoch, metrics, recorded_at)
     VALUES (@experiment, @trial_id, @epoch, @metrics, @now)
     ON CONFLICT (experiment, trial_id, epoch) DO UPDATE
       SET metrics = excluded.metrics, recorded_at = excluded.recorded_at`,
  );
  const raiseEpochs = db.prepare<Key & { epoch: number }>(
    `UPDATE trials SET epochs = MAX(epochs, @epoch) WHERE ${TRIAL_KEY}`,
  );
  return {
    // Read the state and write in one IMMEDIATE transaction, so a result recorded meanwhile by another
    // connection cannot slip between the check and the upsert.
    recordEpoch: db.transaction(
      (key: Key, epoch: number, metrics: string, now: number): 'recorded' | 'final' | 'no-trial' => {
        const row = stateOf.get(key);
        if (!row) return 'no-trial';
        if ((FINAL_STATES as readonly string[]).includes(row.state)) return 'final';
        upsertEpoch.run({ ...key, epoch, metrics, now });
        raiseEpochs.run({ ...key, epoch });
        return 'recorded';
      },
    ),
    // One statement: the WHERE makes the first final result win even across connections.
    recordResult: db.prepare<
      Key & {
        state: string;
        attempt: number;
        worker: string;
        backend: string | null;
        started_at: number;
        ended_at: number;
        value: number | null;
        metrics: string;
        epochs: number;
        error: string | null;
      }
    >(
      `UPDATE trials
       SET state = @state, attempt = MAX(attempt, @attempt), worker = @worker, backend = @backend,
           started_at = @started_at, ended_at = @ended_at, value = @value, metrics = @metrics,
           epochs = MAX(epochs, @epochs), error = @error
       WHERE ${TRIAL_KEY} AND state NOT IN (${FINAL_SQL})`,
    ),
    requeueRunning: db.prepare<[string]>(
      `UPDATE trials SET state = 'pending' WHERE experiment = ? AND state IN ('queued', 'running')`,
    ),
  };
}

/** Epoch lists, runs, models and the leaderboard. */
function prepareRecordStatements(db: Database.Database) {
  const leaderboard = (order: 'ASC' | 'DESC') =>
    db.prepare<{ experiment: string; limit: number }, TrialRow>(
      `SELECT * FROM trials
       WHERE experiment = @experiment AND state IN ('completed', 'stopped') AND value IS NOT NULL
       ORDER BY value ${order}, idx ASC
       LIMIT @limit`,
    );
  return {
    listEpochs: db.prepare<[string, string], EpochRow>(
      `SELECT trial_id, epoch, metrics, recorded_at FROM epochs
       WHERE experiment = ? AND trial_id = ? ORDER BY epoch`,
    ),
    insertRun: db.prepare<{ experiment: string; started_at: number; info: string }>(
      `INSERT INTO runs (experiment, started_at, info) VALUES (@experiment, @started_at, @info)
       ON CONFLICT (experiment, started_at) DO UPDATE SET info = excluded.info`,
    ),
    listRuns: db.prepare<[string], { info: string }>(
      `SELECT info FROM runs WHERE experiment = ? ORDER BY started_at`,
    ),
    upsertModel: db.prepare<{
      experiment: string;
      trial_id: string;
      path: string;
      worker: string | null;
      saved_at: number;
    }>(
      `INSERT INTO models (experiment, trial_id, path, worker, saved_at)
       VALUES (@experiment, @trial_id, @path, @worker, @saved_at)
       ON CONFLICT (experiment, trial_id) DO UPDATE
         SET path = excluded.path, worker = excluded.worker, saved_at = excluded.saved_at`,
    ),
    listModels: db.prepare<[string], ModelRecord>(
      `SELECT m.trial_id, m.path, m.worker, m.saved_at FROM models m
       JOIN trials t ON t.experiment = m.experiment AND t.trial_id = m.trial_id
       WHERE m.experiment = ? ORDER BY t.idx`,
    ),
    deleteModel: db.prepare<[string, string]>(`DELETE FROM models WHERE experiment = ? AND trial_id = ?`),
    leaderboardAsc: leaderboard('ASC'),
    leaderboardDesc: leaderboard('DESC'),
  };
}
