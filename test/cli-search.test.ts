import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../orchestrator/store/index.js';
import { runHpo, startHpo } from './helpers/cli.js';

const SPACE = `
method: grid
task: synthetic
metric: {name: val_acc, goal: maximize}
parameters:
  a: {values: [1, 2, 3]}
  b: {values: [x, y]}
  c: {values: [0.1, 0.01]}
  epochs: {value: 4}
  sleep_ms: {value: 150}
`;

describe('hpo search / resume / leaderboard (real processes, SQLite file)', function () {
  this.timeout(180_000);
  let dir: string;
  let spaceFile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-cli-search-'));
    spaceFile = join(dir, 'space.yaml');
    await writeFile(spaceFile, SPACE);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('killed with SIGKILL midway, then resumed: every trial completes exactly once; leaderboard sorted', async () => {
    const db = join(dir, 'x.db');
    const child = startHpo([
      'search',
      spaceFile,
      '--name',
      'q1',
      '--db',
      db,
      '--workers',
      '2',
      '--backend',
      'cpu',
    ]);
    let log = '';
    child.stderr!.on('data', (d) => (log += d));
    // Kill once a few trials have finished (each finished trial logs one line when not on a terminal).
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if ((log.match(/ finished /g) ?? []).length >= 3) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      child.on(
        'exit',
        () => (clearInterval(timer), reject(new Error(`search ended before the kill:\n${log}`))),
      );
    });
    await new Promise((r) => child.once('close', r));

    let store = SqliteStore.open(db);
    const before = await store.listTrials('q1');
    const completedBefore = before.filter((t) => t.state === 'completed');
    assert.ok(
      completedBefore.length >= 3 && completedBefore.length < 12,
      `${completedBefore.length} completed`,
    );
    assert.ok(
      before.some((t) => t.state === 'running'),
      'a trial was running when killed',
    );
    await store.close();

    const resumed = await runHpo(['resume', 'q1', '--db', db, '--workers', '2', '--backend', 'cpu']);
    assert.equal(resumed.code, 0, resumed.stderr);

    store = SqliteStore.open(db);
    const after = await store.listTrials('q1');
    assert.equal(after.length, 12);
    assert.equal(new Set(after.map((t) => t.trial_id)).size, 12);
    assert.equal(new Set(after.map((t) => JSON.stringify(t.params))).size, 12);
    assert.ok(after.every((t) => t.state === 'completed'));
    for (const t of completedBefore) {
      const now = after.find((x) => x.trial_id === t.trial_id)!;
      assert.equal(now.attempt, t.attempt, `${t.trial_id} was re-run`);
    }
    assert.ok(
      after.some((t) => t.attempt === 2),
      'the interrupted trials ran again',
    );
    assert.equal((await store.getExperiment('q1'))!.status, 'completed');
    await store.close();

    const board = await runHpo(['leaderboard', 'q1', '--db', db, '--format', 'json', '--top', '100']);
    assert.equal(board.code, 0, board.stderr);
    const rows = JSON.parse(board.stdout) as {
      trial_id: string;
      value: number;
      state: string;
      params: object;
    }[];
    assert.equal(rows.length, 12);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].value >= rows[i].value);
  });

  it('a search file with mistakes: exit 2, every mistake with its path, nothing stored', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'method: gird\ntask: multi-digit-mnist\nparameters:\n  learning_rate: {distribution: log_uniform_values, min: 0, max: 0.1}\n  arch: {values: [mlp, resnet]}\n',
    );
    const db = join(dir, 'bad.db');
    const r = await runHpo(['search', bad, '--db', db]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /method/);
    assert.match(r.stderr, /parameters\.learning_rate\.min/);
    assert.match(r.stderr, /parameters\.arch\.values\[1\]/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    await assert.rejects(readFile(db), { code: 'ENOENT' });
  });

  it('a db file that is not ours: exit 2 with its path, and the file is unchanged', async () => {
    const notOurs = join(dir, 'notes.txt');
    await writeFile(notOurs, 'my notes, not a database\n');
    const r = await runHpo(['search', spaceFile, '--db', notOurs]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(notOurs), r.stderr);
    assert.equal(await readFile(notOurs, 'utf8'), 'my notes, not a database\n');
  });

  it('an experiment name already in the db: exit 2, the stored experiment untouched', async () => {
    const db = join(dir, 'dup.db');
    const small = join(dir, 'small.yaml');
    await writeFile(small, SPACE.replace('[1, 2, 3]', '[1]').replace('[x, y]', '[x]').replace('150', '0'));
    assert.equal((await runHpo(['search', small, '--name', 'd', '--db', db, '--backend', 'cpu'])).code, 0);
    const r = await runHpo(['search', small, '--name', 'd', '--db', db, '--backend', 'cpu']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /experiment 'd' already exists/);
    const store = SqliteStore.open(db);
    assert.equal((await store.listTrials('d')).length, 2);
    await store.close();
  });

  it('--time-budget: the search stops proposing at the budget, says so, and records the budget for status', async () => {
    const db = join(dir, 'budget.db');
    const endless = join(dir, 'endless.yaml');
    await writeFile(
      endless,
      'method: random\ntask: synthetic\nmetric: {name: val_acc, goal: maximize}\nparameters:\n  x: {min: 0.0, max: 1.0}\n  epochs: {value: 2}\n  sleep_ms: {value: 100}\n',
    );
    const r = await runHpo([
      'search',
      endless,
      '--name',
      'tb',
      '--db',
      db,
      '--workers',
      '1',
      '--backend',
      'cpu',
      '--time-budget',
      '2s',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tb: completed \(time budget of 2s spent\); [1-9]\d* completed/);
    assert.match(r.stderr, /time left|time budget spent/, 'the progress lines show the time left');
    const s = await runHpo(['status', 'tb', '--db', db]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^time budget: 2s, ends \S+Z$/m);
    const hard = await runHpo(['search', endless, '--name', 'th', '--db', db, '--time-budget-hard']);
    assert.equal(hard.code, 2);
    assert.match(hard.stderr, /--time-budget-hard needs a time budget/);
  });
});
