import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import Database from 'better-sqlite3';

import {
  APPLICATION_ID,
  migrate,
  MIGRATIONS,
  NotOurDatabaseError,
  openStoreReader,
  SCHEMA_VERSION,
  SqliteStore,
  StoreError,
  type Migration,
} from '../orchestrator/store/index.js';
import { makeResult, makeSpace, makeTrial, storeContract } from './contracts/store.contract.js';

storeContract(
  'SqliteStore (file)',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hpo-store-'));
    const store = SqliteStore.open(join(dir, 'hpo.db'));
    return {
      store,
      openReader: async () => openStoreReader(join(dir, 'hpo.db'), { live: true }),
      async cleanup() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { readerBeside: true },
);

storeContract('SqliteStore (:memory:)', async () => {
  const store = SqliteStore.open(':memory:');
  return {
    store,
    async cleanup() {
      await store.close();
    },
  };
});

/** Opens the file with a plain better-sqlite3 connection, runs `fn`, closes. */
function withRaw<T>(file: string, fn: (db: Database.Database) => T, options: Database.Options = {}): T {
  const db = new Database(file, options);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function pragma(file: string, name: string): unknown {
  return withRaw(file, (db) => db.pragma(name, { simple: true }), { readonly: true });
}

describe('SqliteStore on a file', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-store-'));
    file = join(dir, 'hpo.db');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Asserts that opening `file` throws NotOurDatabaseError(reason), leaving its bytes and its folder as they were. */
  async function assertRefused(
    reason: NotOurDatabaseError['reason'],
    pattern: RegExp,
  ): Promise<NotOurDatabaseError> {
    const bytes = await readFile(file);
    const listing = (await readdir(dir)).sort();
    let caught: unknown;
    try {
      await SqliteStore.open(file).close();
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof NotOurDatabaseError, `expected NotOurDatabaseError, got ${String(caught)}`);
    assert.ok(caught instanceof StoreError);
    assert.equal(caught.reason, reason);
    assert.equal(caught.file, file);
    assert.match(caught.message, pattern);
    assert.match(caught.message, /nothing was changed/);
    assert.deepEqual(await readFile(file), bytes, 'file bytes changed');
    assert.deepEqual((await readdir(dir)).sort(), listing, 'files appeared next to the database');
    return caught;
  }

  it('keeps everything across close and reopen', async () => {
    const store = SqliteStore.open(file);
    assert.equal(store.file, file);
    await store.createExperiment('exp', makeSpace(), 'source');
    await store.addTrial('exp', makeTrial(0));
    await store.addTrial('exp', makeTrial(1));
    await store.startTrial('exp', 't0', 'w1');
    await store.recordEpoch('exp', 't0', 1, { val_acc: 0.4 });
    await store.recordResult('exp', 't0', makeResult({ val_acc: 0.5 }));
    await store.startTrial('exp', 't1', 'w2');
    await store.recordEpoch('exp', 't1', 1, { val_acc: 0.2, val_loss: NaN });
    await store.setExperimentStatus('exp', 'interrupted');
    const before = {
      experiments: await store.listExperiments(),
      trials: await store.listTrials('exp'),
      epochs: [await store.listEpochs('exp', 't0'), await store.listEpochs('exp', 't1')],
      board: await store.leaderboard('exp'),
    };
    await store.close();
    await store.close(); // idempotent

    const reopened = SqliteStore.open(file);
    try {
      assert.deepEqual(reopened.appliedMigrations, []);
      assert.deepEqual(
        {
          experiments: await reopened.listExperiments(),
          trials: await reopened.listTrials('exp'),
          epochs: [await reopened.listEpochs('exp', 't0'), await reopened.listEpochs('exp', 't1')],
          board: await reopened.leaderboard('exp'),
        },
        before,
      );
      assert.equal(await reopened.requeueRunning('exp'), 1);
      assert.equal(await reopened.startTrial('exp', 't1', 'w3'), 2);
    } finally {
      await reopened.close();
    }
  });

  it('uses WAL, marks the file as hpo and records the schema version', async () => {
    const store = SqliteStore.open(file);
    try {
      assert.deepEqual(
        store.appliedMigrations,
        MIGRATIONS.map((m) => m.version),
      );
      assert.equal(pragma(file, 'journal_mode'), 'wal');
      assert.equal(pragma(file, 'application_id'), APPLICATION_ID);
      assert.equal(pragma(file, 'user_version'), SCHEMA_VERSION);
      assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
    } finally {
      await store.close();
    }
  });

  it('reports failures as StoreError naming the file', async () => {
    const store = SqliteStore.open(file);
    try {
      await assert.rejects(
        async () => await store.addTrial('nope', makeTrial(0)),
        (err: unknown) => {
          return err instanceof StoreError && err.file === file && /no experiment 'nope'/.test(err.message);
        },
      );
      await store.createExperiment('exp', makeSpace(), 's');
      await store.addTrial('exp', makeTrial(0));
      await assert.rejects(
        async () => await store.addTrial('exp', makeTrial(0, 'other')),
        /trial index 0 .* already belongs/,
      );
      await assert.rejects(async () => await store.startTrial('exp', 'missing', 'w'), /no trial missing/);
      await assert.rejects(async () => await store.recordEpoch('exp', 'missing', 1, {}), /no trial missing/);
      await assert.rejects(
        async () => await store.recordResult('exp', 'missing', makeResult({})),
        /no trial missing/,
      );
      await assert.rejects(async () => await store.setExperimentStatus('nope', 'completed'), StoreError);
      await assert.rejects(async () => await store.leaderboard('exp', { top: -1 }), StoreError);
    } finally {
      await store.close();
    }
    await assert.rejects(async () => await store.listTrials('exp'), StoreError);
    assert.throws(() => SqliteStore.open(join(dir, 'missing-dir', 'x.db')), StoreError);
  });

  it('an empty (0-byte) file becomes ours', async () => {
    await writeFile(file, '');
    const store = SqliteStore.open(file);
    await store.createExperiment('exp', makeSpace(), 's');
    await store.close();
    assert.equal(pragma(file, 'application_id'), APPLICATION_ID);
  });

  describe('migrations', () => {
    it('opening a file at version k applies k+1..n', async () => {
      for (let k = 0; k < SCHEMA_VERSION; k++) {
        const path = join(dir, `v${k}.db`);
        withRaw(path, (db) =>
          assert.deepEqual(
            migrate(db, path, MIGRATIONS.slice(0, k)),
            MIGRATIONS.slice(0, k).map((m) => m.version),
          ),
        );
        const store = SqliteStore.open(path);
        assert.deepEqual(
          store.appliedMigrations,
          MIGRATIONS.slice(k).map((m) => m.version),
        );
        await store.createExperiment('exp', makeSpace(), 's');
        await store.close();
      }
    });

    it("version 5 (state 'queued') rebuilds trials keeping every trial, epoch and model, foreign keys on", async () => {
      const path = join(dir, 'v4.db');
      withRaw(path, (db) => migrate(db, path, MIGRATIONS.slice(0, 4)));
      const v4 = new Database(path);
      v4.pragma('foreign_keys = ON');
      v4.prepare(
        `INSERT INTO experiments (name, bus_id, bus_secret, space, source, status, created_at, updated_at)
         VALUES ('old', 'abc', 'secret', ?, '', 'running', 1, 1)`,
      ).run(JSON.stringify(makeSpace()));
      v4.prepare(
        `INSERT INTO trials (experiment, trial_id, idx, params, seed, state, attempt, worker, created_at, epochs)
         VALUES ('old', 't0', 0, '{"a":1}', 7, 'running', 2, 'w', 1, 1)`,
      ).run();
      v4.prepare(`INSERT INTO epochs VALUES ('old', 't0', 1, '{"val_acc":0.5}', 2)`).run();
      v4.prepare(`INSERT INTO models VALUES ('old', 't0', '/m', 'w', 3)`).run();
      assert.throws(() => v4.prepare(`UPDATE trials SET state = 'queued'`).run(), /CHECK constraint/);
      v4.close();

      const store = SqliteStore.open(path);
      try {
        assert.deepEqual(store.appliedMigrations, [5]);
        const t = (await store.getTrial('old', 't0'))!;
        assert.deepEqual([t.state, t.attempt, t.worker, t.seed, t.epochs], ['running', 2, 'w', 7, 1]);
        assert.deepEqual(
          (await store.listEpochs('old', 't0')).map((e) => e.metrics),
          [{ val_acc: 0.5 }],
        );
        assert.deepEqual(
          (await store.listModels('old')).map((m) => m.path),
          ['/m'],
        );
        assert.equal(await store.requeueRunning('old'), 1);
        assert.equal(await store.startTrial('old', 't0', null, 'queued'), 3);
        assert.equal((await store.getTrial('old', 't0'))!.state, 'queued');
      } finally {
        await store.close();
      }
      withRaw(path, (db) => {
        assert.deepEqual(db.pragma('foreign_key_check'), []);
        assert.deepEqual(
          db
            .prepare(`SELECT name FROM sqlite_schema WHERE tbl_name = 'trials' ORDER BY name`)
            .all()
            .map((r) => (r as { name: string }).name),
          ['sqlite_autoindex_trials_1', 'sqlite_autoindex_trials_2', 'trials', 'trials_by_state'],
        );
        // Foreign keys still hold: an epoch of an unknown trial is refused.
        db.pragma('foreign_keys = ON');
        assert.throws(
          () => db.prepare(`INSERT INTO epochs VALUES ('old', 'nope', 1, '{}', 1)`).run(),
          /FOREIGN KEY/,
        );
      });
    });

    it('opening an up-to-date file applies nothing', async () => {
      await SqliteStore.open(file).close();
      const store = SqliteStore.open(file);
      assert.deepEqual(store.appliedMigrations, []);
      await store.close();
      assert.equal(pragma(file, 'user_version'), SCHEMA_VERSION);
    });

    const log = (version: number, extra = ''): Migration => ({
      version,
      description: `step ${version}`,
      sql: `${extra} INSERT INTO log (step) VALUES (${version});`,
    });
    const custom: Migration[] = [
      { version: 1, description: 'log', sql: 'CREATE TABLE log (step INTEGER); INSERT INTO log VALUES (1);' },
      log(2, 'CREATE TABLE b (x INTEGER);'),
      log(3, 'INSERT INTO b VALUES (3);'), // needs step 2's table
    ];

    it('runs the missing steps of a custom list in order, each exactly once', () => {
      withRaw(file, (db) => {
        assert.deepEqual(migrate(db, file, custom.slice(0, 1)), [1]);
        assert.equal(db.pragma('user_version', { simple: true }), 1);
        assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
        assert.deepEqual(migrate(db, file, custom), [2, 3]);
        assert.deepEqual(migrate(db, file, custom), []);
        assert.deepEqual(
          db
            .prepare('SELECT step FROM log')
            .all()
            .map((r) => (r as { step: number }).step),
          [1, 2, 3],
        );
        assert.equal(db.pragma('user_version', { simple: true }), 3);
      });
      // A second connection that sees an up-to-date file does nothing either.
      withRaw(file, (db) => assert.deepEqual(migrate(db, file, custom), []));
    });

    it('rolls a failing step back entirely', () => {
      const broken: Migration[] = [
        custom[0],
        { version: 2, description: 'broken', sql: 'CREATE TABLE x (a); SELEC nonsense;' },
      ];
      withRaw(file, (db) => {
        assert.deepEqual(migrate(db, file, broken.slice(0, 1)), [1]);
        assert.throws(
          () => migrate(db, file, broken),
          (err: unknown) => {
            return (
              err instanceof StoreError &&
              /migration 2 \(broken\)/.test(err.message) &&
              err.cause !== undefined
            );
          },
        );
        assert.equal(db.pragma('user_version', { simple: true }), 1);
        assert.deepEqual(db.prepare(`SELECT name FROM sqlite_schema WHERE name = 'x'`).all(), []);
      });
    });

    it('rejects a migration list whose versions do not match their positions', () => {
      withRaw(file, (db) => assert.throws(() => migrate(db, file, [custom[1]]), /out of order/));
    });

    it('refuses a file of a newer schema version, unchanged', async () => {
      await SqliteStore.open(file).close();
      withRaw(file, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`));
      await assertRefused('newer-schema', new RegExp(`schema version ${SCHEMA_VERSION + 1}.*upgrade hpo`));
      assert.throws(() => SqliteStore.open(file, { readonly: true }), NotOurDatabaseError);
    });
  });

  describe('not our database', () => {
    it('refuses a text file without changing it', async () => {
      await writeFile(file, 'experiments:\n  - not a database\n');
      await assertRefused('not-sqlite', /not an SQLite file/);
    });

    it('refuses a file with an SQLite header but garbage after it', async () => {
      await writeFile(
        file,
        Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(200, 0xab)]),
      );
      await assertRefused('not-sqlite', /not an SQLite file/);
    });

    it('refuses an SQLite file made by someone else without changing it', async () => {
      withRaw(file, (db) => {
        db.exec('CREATE TABLE foo (a INTEGER); INSERT INTO foo VALUES (1), (2);');
      });
      await assertRefused('foreign', /another application.*foo/);
      assert.deepEqual(
        withRaw(file, (db) => db.prepare('SELECT a FROM foo').all()),
        [{ a: 1 }, { a: 2 }],
      );
    });

    it('refuses an SQLite file with another application_id, even without tables', async () => {
      withRaw(file, (db) => db.pragma('application_id = 1234'));
      await assertRefused('foreign', /application_id 0x000004d2/);
    });
  });

  describe('readonly', () => {
    it('reads an up-to-date file and refuses writes', async () => {
      const writer = SqliteStore.open(file);
      await writer.createExperiment('exp', makeSpace(), 's');
      await writer.close();
      const reader = SqliteStore.open(file, { readonly: true });
      try {
        assert.equal(reader.readonly, true);
        assert.equal((await reader.getExperiment('exp'))?.name, 'exp');
        await assert.rejects(
          async () => await reader.createExperiment('other', makeSpace(), 's'),
          (err: unknown) => {
            return err instanceof StoreError && /readonly/.test(err.message);
          },
        );
      } finally {
        await reader.close();
      }
    });

    it('does not create a missing file', () => {
      assert.throws(() => SqliteStore.open(file, { readonly: true }), StoreError);
      assert.equal(existsSync(file), false);
    });
  });

  describe('two connections on one file', () => {
    it("see each other's writes, and the first result recorded through either wins", async () => {
      const a = SqliteStore.open(file);
      const b = SqliteStore.open(file);
      try {
        assert.deepEqual(b.appliedMigrations, []);
        await a.createExperiment('exp', makeSpace(), 's');
        assert.equal((await b.getExperiment('exp'))?.name, 'exp');
        await assert.rejects(async () => await b.createExperiment('exp', makeSpace(), 's'), /already exists/);
        await b.addTrial('exp', makeTrial(0));
        assert.deepEqual(await a.addTrial('exp', makeTrial(0)), await b.getTrial('exp', 't0'));
        assert.equal(await a.startTrial('exp', 't0', 'wa'), 1);
        assert.equal(await b.startTrial('exp', 't0', 'wb'), 2); // redelivered to another worker
        await b.recordEpoch('exp', 't0', 1, { val_acc: 0.3 });
        await a.recordEpoch('exp', 't0', 1, { val_acc: 0.35 });
        assert.deepEqual(
          (await b.listEpochs('exp', 't0')).map((e) => e.metrics),
          [{ val_acc: 0.35 }],
        );

        assert.equal(await a.recordResult('exp', 't0', makeResult({ val_acc: 0.8 }, { worker: 'wa' })), true);
        assert.equal(
          await b.recordResult('exp', 't0', makeResult({ val_acc: 0.6 }, { worker: 'wb', attempt: 2 })),
          false,
        );
        for (const store of [a, b]) {
          const trials = await store.listTrials('exp');
          assert.equal(trials.length, 1);
          assert.equal(trials[0].state, 'completed');
          assert.equal(trials[0].value, 0.8);
          assert.equal(trials[0].worker, 'wa');
          assert.equal(trials[0].attempt, 2);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('concurrent threads opening a fresh file migrate it once and each trial gets exactly one result', async () => {
      const moduleUrl = new URL('../orchestrator/store/index.js', import.meta.url).href;
      assert.ok(existsSync(fileURLToPath(moduleUrl)));
      const code = `
        const { workerData, parentPort } = require('node:worker_threads');
        import(workerData.moduleUrl).then(async ({ SqliteStore, StoreError }) => {
          const { file, me, trials } = workerData;
          const store = SqliteStore.open(file);
          try { await store.createExperiment('exp', workerData.space, 's'); }
          catch (err) { if (!(err instanceof StoreError)) throw err; }
          const won = [];
          for (let i = 0; i < trials; i++) {
            await store.addTrial('exp', { trial_id: 't' + i, index: i, params: { i }, seed: i });
            const attempt = await store.startTrial('exp', 't' + i, 'w' + me);
            await store.recordEpoch('exp', 't' + i, 1, { val_acc: me });
            const ok = await store.recordResult('exp', 't' + i, {
              attempt: attempt ?? 1, state: 'completed', metrics: { val_acc: me }, epochs: 1,
              worker: 'w' + me, started_at: 0, ended_at: 1,
            });
            if (ok) won.push(i);
          }
          parentPort.postMessage({ applied: store.appliedMigrations, won });
          await store.close();
        });
      `;
      const threads = 4;
      const trials = 25;
      const results = await Promise.all(
        Array.from({ length: threads }, (_, me) => {
          const worker = new Worker(code, {
            eval: true,
            workerData: { moduleUrl, file, me, trials, space: makeSpace() },
          });
          return new Promise<{ applied: number[]; won: number[] }>((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
            worker.once('exit', (exitCode) => reject(new Error(`worker exited with ${exitCode}`)));
          });
        }),
      );
      const applied = results.flatMap((r) => r.applied);
      assert.deepEqual(
        applied.sort(),
        MIGRATIONS.map((m) => m.version),
      );
      const store = SqliteStore.open(file, { readonly: true });
      try {
        const stored = await store.listTrials('exp');
        assert.equal(stored.length, trials);
        for (const t of stored) {
          const winners = results.map((r, me) => (r.won.includes(t.index) ? me : -1)).filter((me) => me >= 0);
          assert.equal(winners.length, 1, `trial ${t.trial_id} won by ${winners.length} threads`);
          assert.equal(t.value, winners[0]);
          assert.equal(t.worker, `w${winners[0]}`);
          assert.equal(t.state, 'completed');
        }
      } finally {
        await store.close();
      }
    });
  });
});
