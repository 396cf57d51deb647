/** A database of one experiment with `trials` trials and `epochsPerTrial` epoch rows each, written in bulk. */
import Database from 'better-sqlite3';
import { SqliteStore } from '../../orchestrator/store/index.js';
import type { SearchSpace } from '../../orchestrator/search-space/index.js';

export const BENCH_EXPERIMENT = 'big';

export const BENCH_SPACE: SearchSpace = {
  method: 'random',
  metric: { name: 'val_acc', goal: 'maximize' },
  parameters: {
    x: { kind: 'uniform', min: -2, max: 2 },
    rate: { kind: 'log_uniform_values', min: 0.0001, max: 1 },
    width: { kind: 'q_uniform', min: 16, max: 256, q: 16 },
    mode: { kind: 'categorical', values: ['a', 'b', 'c'] },
    epochs: { kind: 'constant', value: 10 },
  },
  early_terminate: { type: 'hyperband', min_iter: 1, eta: 3, max_iter: 10 },
  task: 'synthetic',
  seed: 1,
  data: { seed: 1 },
};

/**
 * Creates the schema through the store, then inserts rows in one transaction (the store's one-row
 * methods would take minutes for 100,000 epochs). The last `running` trials are left running with
 * some epochs, as in a live search.
 */
export async function writeBigDb(
  file: string,
  trials: number,
  epochsPerTrial: number,
  running = 4,
): Promise<void> {
  await SqliteStore.open(file).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const now = Date.now();
  const insertExp = db.prepare(
    `INSERT INTO experiments (name, space, source, status, created_at, updated_at) VALUES (?, ?, '', 'running', ?, ?)`,
  );
  const insertTrial = db.prepare(
    `INSERT INTO trials (experiment, trial_id, idx, params, seed, state, attempt, worker, created_at, started_at, ended_at, value, metrics, epochs)
     VALUES (@experiment, @trial_id, @idx, @params, @seed, @state, 1, 'w1', @created, @started, @ended, @value, @metrics, @epochs)`,
  );
  const insertEpoch = db.prepare(
    `INSERT INTO epochs (experiment, trial_id, epoch, metrics, recorded_at) VALUES (?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    insertExp.run(BENCH_EXPERIMENT, JSON.stringify(BENCH_SPACE), now, now);
    for (let i = 0; i < trials; i++) {
      const x = Math.sin(i * 12.9898) * 2;
      const rate = 10 ** (-4 + ((i * 0.618) % 4));
      const params = { x, rate, width: 16 * (1 + (i % 16)), mode: ['a', 'b', 'c'][i % 3], epochs: 10 };
      const target = 0.9 - 0.1 * x * x - 0.02 * Math.abs(Math.log10(rate) + 2);
      const live = i >= trials - running;
      const epochs = live ? Math.max(1, epochsPerTrial - 3) : epochsPerTrial;
      const trialId = `t${String(i).padStart(5, '0')}`;
      const curve = (e: number) => target * (1 - 0.5 ** e);
      const last = curve(epochs);
      insertTrial.run({
        experiment: BENCH_EXPERIMENT,
        trial_id: trialId,
        idx: i,
        params: JSON.stringify(params),
        seed: i,
        state: live ? 'running' : i % 4 === 0 ? 'stopped' : 'completed',
        created: now + i,
        started: now + i,
        ended: live ? null : now + i + 1,
        value: live ? null : last,
        metrics: live ? null : JSON.stringify({ val_acc: last }),
        epochs,
      });
      for (let e = 1; e <= epochs; e++) {
        const v = curve(e);
        insertEpoch.run(
          BENCH_EXPERIMENT,
          trialId,
          e,
          JSON.stringify({ val_acc: v, val_loss: 1 - v }),
          now + i,
        );
      }
    }
  })();
  db.close();
}
