import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { collectRunInfo } from '../orchestrator/core/index.js';
import { migrate, MIGRATIONS, SqliteStore } from '../orchestrator/store/index.js';

const SPACE = {
  method: 'grid' as const,
  metric: { name: 'val_acc', goal: 'maximize' as const },
  parameters: { a: { kind: 'categorical' as const, values: [1, 2] } },
  task: 'synthetic',
  seed: 1,
  data: { seed: 1 },
};

describe('store schema 2: runs and saved models', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'hpo-store2-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it('a version-1 file is upgraded in place: its experiment and trials stay, runs and models work', async () => {
    const file = join(dir, 'v1.db');
    const raw = new Database(file);
    migrate(raw, file, MIGRATIONS.slice(0, 1));
    raw
      .prepare(
        `INSERT INTO experiments (name, space, source, status, created_at, updated_at) VALUES ('old', ?, '', 'completed', 1, 1)`,
      )
      .run(JSON.stringify(SPACE));
    raw
      .prepare(
        `INSERT INTO trials (experiment, trial_id, idx, params, seed, state, created_at) VALUES ('old', 't0', 0, '{"a":1}', 1, 'pending', 1)`,
      )
      .run();
    assert.equal(raw.pragma('user_version', { simple: true }), 1);
    raw.close();

    const store = SqliteStore.open(file);
    try {
      assert.deepEqual(store.appliedMigrations, [2, 3, 4, 5]);
      assert.equal((await store.getExperiment('old'))?.status, 'completed');
      assert.equal((await store.listTrials('old')).length, 1);
      assert.deepEqual(await store.listRuns('old'), []);
      const info = collectRunInfo({
        backendChoice: 'auto',
        workers: '1 local trial thread(s)',
        now: () => 5,
      });
      await store.recordRun('old', info);
      assert.deepEqual(await store.listRuns('old'), [info]);
      assert.ok(info.host.cores > 0 && info.host.memory_bytes > 0 && info.host.cpu_model.length > 0);
      assert.match(info.node_version, /^v\d+/);
      assert.match(info.tfjs_version, /^\d+\.\d+\.\d+$/);
      assert.match(info.hpo_version, /^\d+\.\d+\.\d+$/);

      await store.recordModel('old', { trial_id: 't0', path: '/a', worker: 'w', saved_at: 1 });
      await store.recordModel('old', { trial_id: 't0', path: '/b', worker: 'w', saved_at: 2 });
      assert.deepEqual(await store.listModels('old'), [
        { trial_id: 't0', path: '/b', worker: 'w', saved_at: 2 },
      ]);
      await assert.rejects(
        async () =>
          await store.recordModel('old', { trial_id: 'nope', path: '/c', worker: null, saved_at: 3 }),
        /no trial nope/,
      );
      await assert.rejects(async () => await store.recordRun('missing', info), /no experiment 'missing'/);
      await store.deleteModel('old', 't0');
      assert.deepEqual(await store.listModels('old'), []);
    } finally {
      await store.close();
    }
  });
});
