/**
 * Task modules (issue 14): `task: ./my-task.mjs` in a sweep file, run by `hpo search` in real pool
 * threads; bad modules are exit 2 before any trial; a throwing task fails its trial; a pool never
 * imports a module it does not offer.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../orchestrator/store/index.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../shared/protocol/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { TaskOffers, defineTask, fileSha256, loadTaskModule } from '../worker/tasks/index.js';
import { runHpo } from './helpers/cli.js';
import { DEFINE_TASK_URL, HPO_REPO, quadraticModule, tempDir, writeFile } from './helpers/user-tasks.js';

const SWEEP = (task: string, values = '[0, 1, 2, 3]') =>
  `method: grid\nmetric: {name: loss, goal: minimize}\ntask: ${task}\nparameters:\n  x: {values: ${values}}\n`;

describe('task modules', function () {
  this.timeout(300_000);

  it('hpo search runs a task module named relative to the sweep file and ranks by its metric', async () => {
    const dir = tempDir('module');
    writeFile(dir, 'my-task.mjs', quadraticModule());
    const sweep = writeFile(dir, 'sweep.yaml', SWEEP('./my-task.mjs'));
    const db = join(dir, 'hpo.db');
    // Run from another folder: the path resolves against the sweep file, not the working directory.
    const r = await runHpo(['search', sweep, '--db', db, '--workers', '2', '--name', 'm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.progress.completed, 4);
    const board = out.leaderboard as { params: { x: number }; value: number }[];
    assert.equal(board.length, 4);
    assert.equal(board[0].params.x, 2); // the user's loss, minimised
    assert.equal(board[3].params.x, 0);
    for (let i = 1; i < board.length; i++) assert.ok(board[i - 1].value <= board[i].value);
    const store = SqliteStore.open(db);
    try {
      const exp = (await store.getExperiment('m'))!;
      assert.equal(exp.space.task, 'quad');
      assert.equal(exp.space.task_source?.sha256, fileSha256(join(dir, 'my-task.mjs')));
    } finally {
      await store.close();
    }
  });

  it("a module that imports @tensorflow/tfjs itself (hpo's copy) trains on the worker's backend, as ctx.tf does", async () => {
    // Before issue 28 nothing selected a backend in the trial's thread for a task module: tfjs's
    // default (cpu) ran whatever --backend said.
    const dir = tempDir('module-tfjs');
    mkdirSync(join(dir, 'node_modules', '@tensorflow'), { recursive: true });
    symlinkSync(
      join(HPO_REPO, 'node_modules', '@tensorflow', 'tfjs'),
      join(dir, 'node_modules', '@tensorflow', 'tfjs'),
    );
    const log = join(dir, 'backends.jsonl');
    writeFile(
      dir,
      'tf-task.mjs',
      [
        `import { appendFileSync } from 'node:fs';`,
        `import * as tf from '@tensorflow/tfjs';`,
        `import { defineTask } from '${DEFINE_TASK_URL}';`,
        `export default defineTask({`,
        `  name: 'own-tfjs',`,
        `  async run(spec, ctx) {`,
        `    const loss = tf.tidy(() => tf.square(tf.scalar(spec.params.x - 2)).dataSync()[0]);`,
        `    appendFileSync(${JSON.stringify(log)}, JSON.stringify({ own: tf.getBackend(), ctx: ctx.tf.getBackend() }) + '\\n');`,
        `    await ctx.reportEpoch(1, { loss });`,
        `  },`,
        `});`,
        '',
      ].join('\n'),
    );
    const sweep = writeFile(dir, 'sweep.yaml', SWEEP('./tf-task.mjs', '[1, 2]'));
    const r = await runHpo(['search', sweep, '--db', join(dir, 'hpo.db'), '--backend', 'wasm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).progress.completed, 2, r.stderr);
    const seen = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(seen, [
      { own: 'wasm', ctx: 'wasm' },
      { own: 'wasm', ctx: 'wasm' },
    ]);
  });

  it('a task defined with tfjs: false gets no ctx.tf: using it is a clear error naming the task', async () => {
    const task = defineTask({
      name: 'no-tf',
      tfjs: false,
      run: (_spec, ctx) => ({ n: ctx.tf.getBackend().length }),
    });
    const spec: TrialSpec = {
      v: PROTOCOL_VERSION,
      experiment: 'x',
      experiment_id: 'x',
      trial_id: 't',
      attempt: 1,
      task: 'no-tf',
      params: {},
      seed: 1,
    };
    await assert.rejects(
      task.run(spec, {
        signal: new AbortController().signal,
        backend: 'wasm',
        reportEpoch: async () => 'continue',
      }),
      /task no-tf: ctx\.tf is not available: the task is defined with tfjs: false/,
    );
  });

  it('a task that throws fails that trial with its message; the others complete', async () => {
    const dir = tempDir('module-throw');
    writeFile(dir, 'my-task.mjs', quadraticModule());
    const sweep = writeFile(dir, 'sweep.yaml', SWEEP('./my-task.mjs', '[1, 13, 2]'));
    const r = await runHpo(['search', sweep, '--db', join(dir, 'hpo.db'), '--workers', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.progress.completed, 2);
    assert.equal(out.progress.failed, 1);
    assert.match(r.stderr, /unlucky x 13/);
  });

  for (const [what, text, expected] of [
    ['no default export', `export const task = 1;\n`, /no default export/],
    ['a default export without run', `export default { name: 'x', params: {} };\n`, /missing run/],
    ['a plain function', `export default function run() {}\n`, /not a task/],
  ] as const) {
    it(`a module with ${what}: exit 2 naming the file and what is missing, before any trial`, async () => {
      const dir = tempDir('module-bad');
      const file = writeFile(dir, 'bad-task.mjs', text);
      const sweep = writeFile(dir, 'sweep.yaml', SWEEP('./bad-task.mjs'));
      const db = join(dir, 'hpo.db');
      const r = await runHpo(['search', sweep, '--db', db]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(file), r.stderr);
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /t0000/);
      assert.equal(existsSync(db), false, 'no database: nothing ran');
    });
  }

  it('a missing module is exit 2 naming the resolved path', async () => {
    const dir = tempDir('module-missing');
    const sweep = writeFile(dir, 'sweep.yaml', SWEEP('./nope.mjs'));
    const r = await runHpo(['search', sweep, '--db', join(dir, 'hpo.db')]);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(join(dir, 'nope.mjs')), r.stderr);
    assert.match(r.stderr, /no such file/);
  });

  it('loadTaskModule gives name, sha256 and the parameter rules', async () => {
    const dir = tempDir('module-load');
    const file = writeFile(dir, 't.mjs', quadraticModule('named'));
    const loaded = await loadTaskModule(file);
    assert.equal(loaded.task.name, 'named');
    assert.equal(loaded.sha256, fileSha256(file));
    assert.deepEqual(loaded.task.params.metrics, ['loss']);
    assert.equal(loaded.task.params.open, true);
  });

  it('a thread that dies mid-trial fails the trial (thread gone) after the epochs it reported', async () => {
    const dir = tempDir('module-dies');
    const file = writeFile(
      dir,
      'dies.mjs',
      `import { defineTask } from '${DEFINE_TASK_URL}';\nexport default defineTask({ name: 'dies', tfjs: false, async run(_spec, ctx) {\n  await ctx.reportEpoch(1, { loss: 1 });\n  process.exit(3);\n} });\n`,
    );
    const sha256 = fileSha256(file);
    const pool = new TrialPool({
      threads: 1,
      tasks: new TaskOffers().add({ kind: 'module', name: 'dies', sha256, path: file }),
    });
    const ends: unknown[] = [];
    pool.addObserver({ onTrialEnd: (_spec, end, thread) => ends.push({ end, gone: thread.gone }) });
    const epochs: number[] = [];
    try {
      const result = await pool.run(
        {
          v: PROTOCOL_VERSION,
          experiment: 'e',
          experiment_id: 'e',
          trial_id: 't1',
          attempt: 1,
          task: 'dies',
          task_sha256: sha256,
          params: { epochs: 3 },
          seed: 1,
        },
        {
          onEpoch: async (e) => {
            epochs.push(e.epoch);
            return 'continue';
          },
          signal: new AbortController().signal,
        },
      );
      assert.equal(result.state, 'failed');
      assert.match(result.error ?? '', /exit/i);
      assert.deepEqual({ epochs: result.epochs, metrics: result.metrics }, { epochs: 0, metrics: {} });
      assert.deepEqual(epochs, [1]);
      assert.deepEqual(ends, [{ end: 'failed', gone: true }]);
    } finally {
      await pool.close();
    }
  });

  it('a pool never imports or runs a task it does not offer (wrong name or wrong sha256)', async () => {
    const dir = tempDir('module-unoffered');
    const marker = join(dir, 'imported');
    const file = writeFile(
      dir,
      'side-effect.mjs',
      `import { writeFileSync } from 'node:fs';\nimport { defineTask } from '${DEFINE_TASK_URL}';\nwriteFileSync(${JSON.stringify(marker)}, 'x');\nexport default defineTask({ name: 'side', async run() {} });\n`,
    );
    const sha = fileSha256(file);
    const offers = new TaskOffers(); // offers nothing
    const pool = new TrialPool({ threads: 1, tasks: offers });
    const other = new TrialPool({ threads: 1 }); // no offers at all
    try {
      for (const p of [pool, other]) {
        for (const task of ['side', join(dir, 'side-effect.mjs')]) {
          const result = await p.run(
            {
              v: PROTOCOL_VERSION,
              experiment: 'e',
              experiment_id: 'e',
              trial_id: 't1',
              attempt: 1,
              task,
              task_sha256: sha,
              params: {},
              seed: 1,
            },
            { onEpoch: async () => 'continue', signal: new AbortController().signal },
          );
          assert.equal(result.state, 'failed');
          assert.match(result.error ?? '', /does not offer task/);
        }
      }
      assert.equal(existsSync(marker), false, 'the module was never imported');
      assert.match(
        offers.refusal({
          v: PROTOCOL_VERSION,
          experiment: 'e',
          experiment_id: 'e',
          trial_id: 't',
          attempt: 1,
          task: 'side',
          task_sha256: sha,
          params: {},
          seed: 1,
        }) ?? '',
        /side@[0-9a-f]{12}/,
      );
    } finally {
      await pool.close();
      await other.close();
    }
  });
});
