/**
 * Done-when of issue 14, as a new user would: a fresh folder outside the repository, `npm init -y`,
 * `npm i <path to hpo>`, a 15-line my-task.mjs, `npx hpo search sweep.yaml` ranks by the user's metric;
 * the same package as a library (`import { search, defineTask } from 'hpo'`), with its types.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HPO_REPO, tempDir, writeFile } from './helpers/user-tasks.js';
import { skipUnlessNativeBackend } from './helpers/native-backend.js';

const run = promisify(execFile);

const MY_TASK = `import { defineTask } from 'hpo';

export default defineTask({
  name: 'parabola',
  metrics: ['val_loss'],
  async run(spec, ctx) {
    const { lr, width } = spec.params;
    for (let epoch = 1; epoch <= 4; epoch++) {
      const val_loss = (Math.log10(lr) + 2) ** 2 + 1 / width + 1 / epoch;
      if ((await ctx.reportEpoch(epoch, { val_loss })) === 'stop') break;
    }
  },
});
`;

const SWEEP = `method: grid
metric: {name: val_loss, goal: minimize}
task: ./my-task.mjs
parameters:
  lr: {values: [0.0001, 0.01, 1]}
  width: {values: [8, 128]}
`;

/** A TF.js task module as a user writes it: ctx.tf, no tfjs of its own; logs the backend it ran on. */
const TF_TASK = `import { appendFileSync } from 'node:fs';
import { defineTask } from 'hpo';

export default defineTask({
  name: 'which-backend',
  metrics: ['loss'],
  async run(spec, ctx) {
    const { tf } = ctx;
    const x = tf.tensor2d([[0], [1], [2], [3]]);
    const y = tf.tensor2d([[1], [3], [5], [7]]);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
    model.compile({ optimizer: tf.train.sgd(spec.params.lr), loss: 'meanSquaredError' });
    const h = await model.fit(x, y, { epochs: 3, verbose: 0 });
    appendFileSync(process.env.BACKEND_LOG, JSON.stringify({ backend: tf.getBackend(), asked: ctx.backend }) + '\\n');
    tf.dispose([x, y]);
    model.dispose();
    await ctx.reportEpoch(1, { loss: h.history.loss.at(-1) });
  },
});
`;

const TF_SWEEP = `method: grid
metric: {name: loss, goal: minimize}
task: ./tf-task.mjs
parameters:
  lr: {values: [0.01, 0.02, 0.05]}
`;

const LIBRARY = `import { search, defineTask } from 'hpo';
const task = defineTask({
  name: 'inline',
  async run(spec, ctx) { await ctx.reportEpoch(1, { score: -((spec.params.x - 3) ** 2) }); },
});
const seen = [];
const r = await search({
  space: { method: 'grid', metric: { name: 'score', goal: 'maximize' }, parameters: { x: { values: [1, 2, 3, 4] } } },
  task,
  onTrial: (t) => seen.push(t.trial_id),
});
const fromFile = await search({ file: 'sweep.yaml', workers: 2, db: 'lib.db' });
console.log(JSON.stringify({ status: r.status, order: r.leaderboard.map((t) => t.params.x), seen: seen.length,
  file: fromFile.leaderboard.map((t) => [t.params.lr, t.params.width]) }));
`;

const TYPED = `import { search, defineTask, type TrialRecord } from 'hpo';
const task = defineTask({ name: 't', async run(spec, ctx) { await ctx.reportEpoch(1, { m: Number(spec.params.x) }); } });
const r = await search({ space: { method: 'grid', parameters: { x: { values: [1] } } }, task, onTrial: (t: TrialRecord) => t.value });
export const n: number = r.leaderboard.length;
`;

describe('a fresh project installs hpo and tunes its own task (npm, real processes)', function () {
  this.timeout(900_000);
  const dir = tempDir('fresh');
  const npm = (args: string[]) => run('npm', args, { cwd: dir, maxBuffer: 1 << 24 });

  before(async () => {
    await npm(['init', '-y']);
    // `prepare` builds hpo as part of the install.
    await npm(['install', HPO_REPO, '--no-audit', '--no-fund']);
    writeFile(dir, 'my-task.mjs', MY_TASK);
    writeFile(dir, 'sweep.yaml', SWEEP);
  });

  it('the task module is at most 15 lines', () => {
    assert.ok(MY_TASK.trimEnd().split('\n').length <= 15);
  });

  it('npx hpo search sweep.yaml runs the task and the leaderboard ranks by the user metric', async () => {
    assert.equal(realpathSync(join(dir, 'node_modules', 'hpo')), realpathSync(HPO_REPO));
    const { stdout } = await run('npx', ['hpo', 'search', 'sweep.yaml', '--json', '--db', 'cli.db'], {
      cwd: dir,
      maxBuffer: 1 << 24,
    });
    const out = JSON.parse(stdout);
    assert.equal(out.status, 'completed');
    assert.equal(out.progress.completed, 6);
    const board = out.leaderboard as { params: { lr: number; width: number }; value: number }[];
    assert.deepEqual([board[0].params.lr, board[0].params.width], [0.01, 128]);
    for (let i = 1; i < board.length; i++) assert.ok(board[i - 1].value <= board[i].value);
  });

  for (const backend of ['wasm', 'tensorflow'] as const) {
    it(`a TF.js task module trains with ctx.tf on the backend hpo was given (${backend}), one tfjs loaded`, async function () {
      if (backend === 'tensorflow') skipUnlessNativeBackend(this);
      writeFile(dir, 'tf-task.mjs', TF_TASK);
      writeFile(dir, 'tf-sweep.yaml', TF_SWEEP);
      const log = join(dir, `backend-${backend}.jsonl`);
      const args = ['hpo', 'search', 'tf-sweep.yaml', '--json', '--db', `tf-${backend}.db`, '--workers', '2'];
      const { stdout, stderr } = await run('npx', [...args, '--backend', backend], {
        cwd: dir,
        env: { ...process.env, BACKEND_LOG: log },
        maxBuffer: 1 << 24,
      });
      const out = JSON.parse(stdout);
      assert.equal(out.status, 'completed', stderr);
      assert.equal(out.progress.completed, 3, stderr);
      const seen = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(seen.length, 3);
      for (const s of seen) assert.deepEqual(s, { backend, asked: backend });
      // A second copy of tfjs registers every kernel again (a warning each) and prints its banner.
      assert.doesNotMatch(stderr + stdout, /already registered/);
    });
  }

  it("import { search, defineTask } from 'hpo' works from the user's code", async () => {
    writeFile(dir, 'lib.mjs', LIBRARY);
    const { stdout } = await run(process.execPath, ['lib.mjs'], { cwd: dir });
    const out = JSON.parse(stdout);
    assert.equal(out.status, 'completed');
    assert.deepEqual(out.order, [3, 2, 4, 1]);
    assert.equal(out.seen, 4);
    assert.deepEqual(out.file[0], [0.01, 128]);
  });

  it('npm pack packs what an install from the tarball needs (built code, types, schema, launcher, web page)', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: HPO_REPO,
      maxBuffer: 1 << 24,
    });
    const files = new Set((JSON.parse(stdout)[0].files as { path: string }[]).map((f) => f.path));
    for (const f of [
      'bin/hpo.js',
      'dist/cli/main.js',
      'dist/cli/library/index.js',
      'dist/cli/library/index.d.ts',
      'dist/worker/pool/trial-thread.js',
      'search-spaces/sweep.schema.json',
      'dist/viewer/server.js',
      'viewer/public/index.html',
      'viewer/public/app.js',
    ]) {
      assert.ok(files.has(f), f);
    }
    assert.ok(![...files].some((f) => f.startsWith('dist/test/')), 'tests stay out of the package');
  });

  it('the package ships type declarations a TypeScript user compiles against', async () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', 'hpo', 'package.json'), 'utf8'));
    assert.equal(pkg.exports['.'].types, './dist/cli/library/index.d.ts');
    writeFile(dir, 'check.mts', TYPED);
    const tsc = join(HPO_REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const types = join(HPO_REPO, 'node_modules', '@types');
    await run(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--skipLibCheck',
        '--typeRoots',
        types,
        '--types',
        'node',
        'check.mts',
      ],
      { cwd: dir },
    );
    // And a mistake is caught: a task without run.
    writeFile(
      dir,
      'bad.mts',
      `import { defineTask } from 'hpo';\nexport default defineTask({ name: 'x' });\n`,
    );
    await assert.rejects(
      run(
        process.execPath,
        [
          tsc,
          '--noEmit',
          '--strict',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2022',
          '--skipLibCheck',
          '--typeRoots',
          types,
          '--types',
          'node',
          'bad.mts',
        ],
        { cwd: dir },
      ),
      (err: { stdout?: string }) => /'run' is missing/.test(err.stdout ?? ''),
    );
  });
});
