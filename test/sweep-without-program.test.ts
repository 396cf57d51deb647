/**
 * Issue 25 item 6: a W&B sweep file that names no `program` (driven by `wandb.agent(function=...)`) is a
 * valid search space, not a multi-digit-mnist one; `hpo search FILE --task MODULE` or `--program FILE`
 * runs it. Validate judges the file, not this machine: a program or launcher missing here is a warning,
 * while a local search still refuses to start trials it cannot run. Real `hpo` processes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import { search } from '../cli/library/index.js';
import { analyseSearchSpace, NO_TASK } from '../orchestrator/search-space/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { UsageError } from '../shared/errors.js';
import { HPO_BIN, type CliResult } from './helpers/cli.js';
import { TEST_DATA_DIR } from './helpers/dataset.js';
import { DEFINE_TASK_URL, tempDir, writeFile } from './helpers/user-tasks.js';

/** `hpo ...args` run in `cwd` (relative --task / --program paths resolve against it). */
function hpoIn(cwd: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [HPO_BIN, ...args],
      { cwd, env: { ...process.env, HPO_DATA_DIR: TEST_DATA_DIR, TMPDIR: cwd }, timeout: 240_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** As a public W&B sweep driven by wandb.agent(function=train): no program, its own metric and names. */
const AGENT_SWEEP = [
  'method: random',
  'run_cap: 4',
  'metric:',
  '  name: val_loss',
  '  goal: minimize',
  'parameters:',
  '  learning_rate: {distribution: log_uniform_values, min: 0.0001, max: 0.1}',
  '  dropout: {values: [0.1, 0.3, 0.5]}',
  '  optimizer: {values: [adam, sgd, adam]}',
  '  epochs: {value: 2}',
  '',
].join('\n');

const MODULE = [
  `import { defineTask } from '${DEFINE_TASK_URL}';`,
  `export default defineTask({`,
  `  name: 'agent-fn',`,
  `  metrics: ['val_loss'],`,
  `  tfjs: false,`,
  `  async run(spec, ctx) {`,
  `    for (let epoch = 1; epoch <= spec.params.epochs; epoch++) {`,
  `      const val_loss = Math.log10(spec.params.learning_rate) ** 2 + spec.params.dropout + 1 / epoch;`,
  `      await ctx.reportEpoch(epoch, { val_loss });`,
  `    }`,
  `  },`,
  `});`,
  '',
].join('\n');

const PROGRAM = [
  `const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));`,
  `for (let epoch = 1; epoch <= Number(args.epochs); epoch++) {`,
  `  console.log(JSON.stringify({ epoch, val_loss: Number(args.dropout) + 1 / epoch }));`,
  `}`,
  '',
].join('\n');

describe('sweep files without a program (issue 25 item 6)', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => {
    dir = tempDir('agent-sweep');
    writeFile(dir, 'sweep.yaml', AGENT_SWEEP);
    writeFile(dir, 'agent-task.mjs', MODULE);
    writeFile(dir, 'train.mjs', PROGRAM);
  });

  it('the parser: no task (NO_TASK), parameters and metric not checked against a task; run sets one', () => {
    const tasks = builtinTaskCatalog();
    const { space } = analyseSearchSpace(AGENT_SWEEP, { tasks });
    assert.equal(space.task, NO_TASK);
    assert.equal(space.defaulted, undefined, 'no task defaults filled in');
    assert.deepEqual(Object.keys(space.parameters), ['learning_rate', 'dropout', 'optimizer', 'epochs']);
    const withTask = analyseSearchSpace(AGENT_SWEEP, { tasks, run: { task: 'synthetic' } }).space;
    assert.equal(withTask.task, 'synthetic');
    assert.throws(
      () => analyseSearchSpace(AGENT_SWEEP, { tasks, run: { task: 'multi-digit-mnist' } }),
      /parameters\.dropout: unknown parameter for task multi-digit-mnist/,
    );
  });

  it('the library: search() of a space without task or program, and no task given, is a UsageError', async () => {
    await assert.rejects(
      search({ space: AGENT_SWEEP }),
      (err: unknown) => err instanceof UsageError && /names neither task nor program/.test(err.message),
    );
  });

  it('hpo validate: valid (exit 0), not checked against multi-digit-mnist; it says --task / --program run it', async () => {
    const r = await hpoIn(dir, ['validate', 'sweep.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sweep\.yaml: valid$/m);
    assert.match(
      r.stdout,
      /^task: none: the file names neither task nor program; run it with .*--task .*--program/m,
    );
    assert.match(r.stdout, /^ {2}dropout: categorical \[0\.1, 0\.3, 0\.5\]/m);
    assert.match(
      r.stdout,
      /sweep\.yaml:9: parameters\.optimizer\.values\[2\]: duplicate of parameters\.optimizer\.values\[0\]/,
    );
  });

  it('hpo search FILE without --task or --program: exit 2, says what to add, stores nothing', async () => {
    const r = await hpoIn(dir, ['search', 'sweep.yaml', '--db', 'none.db']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /sweep\.yaml names neither task nor program: say what a trial runs with --task .* or --program/,
    );
    assert.equal(existsSync(join(dir, 'none.db')), false);
  });

  it('hpo search FILE --task ./agent-task.mjs runs it (exit 0), the module relative to the working directory', async () => {
    const r = await hpoIn(dir, [
      'search',
      'sweep.yaml',
      '--task',
      './agent-task.mjs',
      '--db',
      'm.db',
      '--name',
      'm',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /4 completed, 0 stopped, 0 failed/);
    const store = SqliteStore.open(join(dir, 'm.db'));
    try {
      assert.equal((await store.getExperiment('m'))!.space.task, 'agent-fn');
    } finally {
      await store.close();
    }
  });

  it('hpo search FILE --program train.mjs runs it as a command task (exit 0)', async () => {
    const r = await hpoIn(dir, [
      'search',
      'sweep.yaml',
      '--program',
      'train.mjs',
      '--db',
      'p.db',
      '--name',
      'p',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /4 completed, 0 stopped, 0 failed/);
  });

  it('--task for a file that names its own task, or --task with --program: exit 2', async () => {
    writeFile(
      dir,
      'own.yaml',
      `task: synthetic\n${AGENT_SWEEP.replace(/^ {2}(learning_rate|dropout|optimizer).*\n/gm, '')}`,
    );
    const own = await hpoIn(dir, ['search', 'own.yaml', '--task', './agent-task.mjs', '--db', 'o.db']);
    assert.equal(own.code, 2, own.stderr);
    assert.match(
      own.stderr,
      /own\.yaml:1: task: the file names its task \("synthetic"\); .*remove one of them/,
    );
    const both = await hpoIn(dir, [
      'validate',
      'sweep.yaml',
      '--task',
      'synthetic',
      '--program',
      'train.mjs',
    ]);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /--task and --program: give one of them, not both/);
  });

  it('a launcher missing on this machine (torchrun-like): validate warns (exit 0); search without --nats refuses (exit 2)', async () => {
    writeFile(dir, 'train.py', 'print("{}")\n');
    writeFile(
      dir,
      'launch.yaml',
      [
        'program: train.py',
        'command: [hpo-test-no-such-launcher, --nproc_per_node=2, "${program}", "${args}"]',
        AGENT_SWEEP,
      ].join('\n'),
    );
    const v = await hpoIn(dir, ['validate', 'launch.yaml']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^task: train\.py$/m);
    assert.match(
      v.stdout,
      /program: command not found or not executable: hpo-test-no-such-launcher on this machine/,
    );
    const s = await hpoIn(dir, ['search', 'launch.yaml', '--db', 'l.db']);
    assert.equal(s.code, 2, s.stderr);
    assert.match(
      s.stderr,
      /launch\.yaml: program train\.py: command not found or not executable: hpo-test-no-such-launcher: the trials would run on this machine/,
    );
    assert.equal(existsSync(join(dir, 'l.db')), false);
  });

  it('a program file missing here: validate warns (exit 0); search refuses (exit 2)', async () => {
    writeFile(dir, 'gone.yaml', `program: elsewhere.py\n${AGENT_SWEEP}`);
    const v = await hpoIn(dir, ['validate', 'gone.yaml']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /gone\.yaml: program: no such file here \(looked for .*elsewhere\.py\)/);
    const s = await hpoIn(dir, ['search', 'gone.yaml', '--db', 'g.db']);
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /gone\.yaml: program elsewhere\.py: no such file here/);
  });
});
