/**
 * Issue 15 item 7, on real `hpo` processes and real files: a store that cannot write (a file-size limit,
 * RLIMIT_FSIZE, as a full disk) ends a local search with a non-zero exit and the experiment interrupted;
 * --out never overwrites without --force and says so for a path of the wrong kind; read-only commands
 * never create a database.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, MIGRATIONS, SqliteStore } from '../orchestrator/store/index.js';
import { parseSearchSpace } from '../orchestrator/search-space/index.js';
import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import { type CliResult, HPO_BIN, runHpo } from './helpers/cli.js';
import { TEST_DATA_DIR } from './helpers/dataset.js';

const SPACE = `
method: random
task: synthetic
run_cap: 6
metric: {name: val_acc, goal: maximize}
parameters:
  a: {min: 0.0, max: 1.0}
  epochs: {value: 20}
  sleep_ms: {value: 0}
`;

/** `hpo ...args` with files limited to `kb` KiB (bash `ulimit -f`): writes past it fail with EFBIG. */
function runHpoLimited(kb: number, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'bash',
      ['-c', `ulimit -f ${kb} && exec "$0" "$@"`, process.execPath, HPO_BIN, ...args],
      { env: { ...process.env, HPO_DATA_DIR: TEST_DATA_DIR }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hpo: store failures, --out and --db safety (real processes, real files)', function () {
  this.timeout(180_000);
  let dir: string;
  let spaceFile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-cli-safety-'));
    spaceFile = join(dir, 'space.yaml');
    await writeFile(spaceFile, SPACE);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a local search whose store cannot write exits 1 and leaves the experiment interrupted; resume finishes it', async () => {
    const db = join(dir, 'full.db');
    const full = await runHpoLimited(200, [
      'search',
      spaceFile,
      '--name',
      'full',
      '--db',
      db,
      '--workers',
      '2',
      '--backend',
      'cpu',
    ]);
    assert.equal(full.code, 1, full.stderr);
    assert.match(full.stderr, /could not record .* left interrupted: free space .* hpo resume/);
    let store = SqliteStore.open(db);
    assert.equal((await store.getExperiment('full'))!.status, 'interrupted');
    assert.equal((await store.listTrials('full')).filter((t) => t.state === 'running').length, 0);
    await store.close();

    const resumed = await runHpo(['resume', 'full', '--db', db, '--workers', '2', '--backend', 'cpu']);
    assert.equal(resumed.code, 0, resumed.stderr);
    store = SqliteStore.open(db);
    assert.equal((await store.getExperiment('full'))!.status, 'completed');
    assert.deepEqual(
      (await store.listTrials('full')).map((t) => t.state),
      Array(6).fill('completed'),
    );
    await store.close();
  });

  it('status, leaderboard, experiments, report and resume with a mistyped --db exit 2 and create nothing', async () => {
    const missing = join(dir, 'typo.db');
    for (const args of [
      ['status'],
      ['leaderboard'],
      ['experiments'],
      ['report', 'x', '--out', join(dir, 'r0')],
      ['resume', 'x'],
    ]) {
      const r = await runHpo([...args, '--db', missing]);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /no such database: .*typo\.db/, args[0]);
      assert.equal(existsSync(missing), false, `${args[0]} created ${missing}`);
    }
  });

  it('status, leaderboard, experiments and report read a file of an older schema without changing it', async () => {
    // A search of an older hpo (schema 3: no bus ids yet), paused or still running: a newer hpo's
    // read-only commands must not migrate its file under it.
    const file = join(dir, 'older.db');
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL'); // as every hpo database is
    migrate(raw, file, MIGRATIONS.slice(0, 3));
    raw
      .prepare(
        `INSERT INTO experiments (name, space, source, status, created_at, updated_at) VALUES ('old', ?, '', 'interrupted', 1, 1)`,
      )
      .run(JSON.stringify(parseSearchSpace(SPACE, { tasks: builtinTaskCatalog() })));
    raw
      .prepare(
        `INSERT INTO trials (experiment, trial_id, idx, params, seed, state, created_at, ended_at, value, metrics, epochs, attempt)
         VALUES ('old', 't0000', 0, '{"a":0.5}', 1, 'completed', 1, 2, 0.75, '{"val_acc":0.75}', 20, 1)`,
      )
      .run();
    raw.close();
    const bytes = await readFile(file);
    for (const args of [
      ['status', 'old'],
      ['leaderboard', 'old'],
      ['experiments'],
      ['report', 'old', '--out', join(dir, 'older-report')],
    ]) {
      const r = await runHpo([...args, '--db', file]);
      assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
      if (args[0] === 'leaderboard') assert.match(r.stdout, /t0000[\s\S]*0\.75/);
      assert.ok((await readFile(file)).equals(bytes), `${args[0]} changed the file`);
    }
    const after = new Database(file, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), 3);
    after.close();
  });

  it('report --out: refuses to overwrite a report without --force, and a file where a folder is expected', async () => {
    const db = join(dir, 'rep.db');
    const search = await runHpo(['search', spaceFile, '--name', 'rep', '--db', db, '--workers', '1']);
    assert.equal(search.code, 0, search.stderr);
    const out = join(dir, 'report');
    await mkdir(out);
    await writeFile(join(out, 'report.md'), 'my notes');
    const refused = await runHpo(['report', 'rep', '--db', db, '--out', out]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /already holds report\.md .*--force/);
    assert.equal(await readFile(join(out, 'report.md'), 'utf8'), 'my notes');

    const forced = await runHpo(['report', 'rep', '--db', db, '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(await readFile(join(out, 'report.md'), 'utf8'), 'my notes');

    const wrongKind = await runHpo(['report', 'rep', '--db', db, '--out', spaceFile]);
    assert.equal(wrongKind.code, 2, wrongKind.stderr);
    assert.match(wrongKind.stderr, /is a file, expected a folder/);
    assert.doesNotMatch(wrongKind.stderr, /\n\s+at /, 'no stack trace');
  });

  it('data preview --out: refuses an existing file without --force, and a folder', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'keep me');
    const refused = await runHpo(['data', 'preview', '--out', text, '--count', '2']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /exists .*--force/);
    assert.equal(await readFile(text, 'utf8'), 'keep me');

    const folder = join(dir, 'a-folder');
    await mkdir(folder);
    const wrongKind = await runHpo(['data', 'preview', '--out', folder, '--count', '2']);
    assert.equal(wrongKind.code, 2, wrongKind.stderr);
    assert.match(wrongKind.stderr, /is a folder, expected a file/);

    const forced = await runHpo(['data', 'preview', '--out', text, '--count', '2', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(await readFile(text, 'utf8'), 'keep me');
  });
});
