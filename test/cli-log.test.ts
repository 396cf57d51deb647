/**
 * The hpo binary's log lines (real processes, stderr piped): JSON lines with level, msg and the
 * experiment/trial fields; --log-level and HPO_LOG_LEVEL choose what is written; user-facing output is
 * unchanged beside them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHpo } from './helpers/cli.js';

/** Every trial fails at its second epoch: the orchestrator warns once per trial. */
const FAILING = `
method: grid
task: synthetic
metric: {name: val_acc, goal: maximize}
parameters:
  a: {values: [1, 2, 3]}
  epochs: {value: 3}
  fail_at_epoch: {value: 2}
`;

const PASSING = `
method: grid
task: synthetic
metric: {name: val_acc, goal: maximize}
parameters:
  a: {values: [1, 2]}
  epochs: {value: 2}
`;

interface Line {
  level: string;
  msg: string;
  time: string;
  [field: string]: unknown;
}

/** stderr split into log lines (JSON objects) and the rest (progress and user-facing lines). */
function split(stderr: string): { logs: Line[]; other: string[] } {
  const logs: Line[] = [];
  const other: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line.startsWith('{')) logs.push(JSON.parse(line) as Line);
    else if (line.trim() !== '') other.push(line);
  }
  return { logs, other };
}

describe('hpo log lines (real CLI, stderr piped)', function () {
  this.timeout(180_000);
  let dir: string;
  let failing: string;
  let passing: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-cli-log-'));
    failing = join(dir, 'failing.yaml');
    passing = join(dir, 'passing.yaml');
    await writeFile(failing, FAILING);
    await writeFile(passing, PASSING);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const search = (space: string, name: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    runHpo(
      ['search', space, '--name', name, '--db', join(dir, `${name}.db`), '--workers', '2', ...extra],
      env,
    );

  it('default level: a JSON warning per failed trial, with experiment, trial, attempt and worker', async () => {
    const r = await search(failing, 'f1');
    assert.equal(r.code, 0, r.stderr);
    const { logs, other } = split(r.stderr);
    const failed = logs.filter((l) => l.msg === 'trial failed');
    assert.deepEqual(failed.map((l) => l.trial).sort(), ['t0000', 't0001', 't0002'], r.stderr);
    for (const l of failed) {
      assert.equal(l.level, 'warn');
      assert.equal(l.experiment, 'f1');
      assert.equal(l.attempt, 1);
      assert.equal(typeof l.worker, 'string');
      assert.match(String(l.error), /synthetic failure at epoch 2/);
      assert.match(l.time, /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof l.pid, 'number');
    }
    // info is the default: nothing below it.
    assert.ok(
      logs.every((l) => ['info', 'warn', 'error', 'fatal'].includes(l.level)),
      r.stderr,
    );
    // User-facing lines are unchanged: the start line and one progress line per trial, not JSON.
    assert.ok(
      other.some((l) => /^hpo: experiment 'f1': grid search, task synthetic/.test(l)),
      r.stderr,
    );
    assert.equal(other.filter((l) => / finished failed: /.test(l)).length, 3, r.stderr);
    assert.match(r.stdout, /f1: completed; 0 completed, 0 stopped, 3 failed/);
  });

  it('--log-level debug: dispatch and result lines per trial, and lines from the pool threads', async () => {
    const r = await search(passing, 'd1', ['--log-level', 'debug']);
    assert.equal(r.code, 0, r.stderr);
    const { logs } = split(r.stderr);
    const dispatched = logs.filter((l) => l.msg === 'trial dispatched');
    assert.deepEqual(dispatched.map((l) => l.trial).sort(), ['t0000', 't0001'], r.stderr);
    for (const l of dispatched) {
      assert.equal(l.level, 'debug');
      assert.equal(l.experiment, 'd1');
      assert.equal(l.attempt, 1);
    }
    const completed = logs.filter((l) => l.msg === 'trial completed');
    assert.deepEqual(
      completed.map((l) => [l.experiment, l.state]),
      [
        ['d1', 'completed'],
        ['d1', 'completed'],
      ],
    );
    // A pool thread's own line (threads inherit the level), with the same trial fields.
    const thread = logs.filter((l) => l.component === 'trial-thread' && l.msg === 'trial started');
    assert.deepEqual(thread.map((l) => l.trial).sort(), ['t0000', 't0001'], r.stderr);
    assert.ok(thread.every((l) => l.experiment === 'd1' && typeof l.thread === 'number' && l.worker));
    // The global option works after the command name too, and before it.
    const before = await runHpo([
      '--log-level',
      'debug',
      'search',
      passing,
      '--name',
      'd2',
      '--db',
      join(dir, 'd2.db'),
      '--workers',
      '1',
    ]);
    assert.equal(before.code, 0, before.stderr);
    assert.ok(split(before.stderr).logs.some((l) => l.msg === 'trial dispatched' && l.experiment === 'd2'));
  });

  it('--log-level silent (or HPO_LOG_LEVEL=silent) writes no log line; the output is unchanged', async () => {
    const quiet = await search(failing, 's1', ['--log-level', 'silent']);
    const env = await search(failing, 's2', [], { HPO_LOG_LEVEL: 'silent' });
    for (const r of [quiet, env]) {
      assert.equal(r.code, 0, r.stderr);
      const { logs, other } = split(r.stderr);
      assert.deepEqual(logs, []);
      assert.equal(other.filter((l) => / finished failed: /.test(l)).length, 3, r.stderr);
    }
    // The flag wins over the environment.
    const flagWins = await search(failing, 's3', ['--log-level', 'warn'], { HPO_LOG_LEVEL: 'silent' });
    assert.equal(split(flagWins.stderr).logs.filter((l) => l.msg === 'trial failed').length, 3);
    assert.equal(
      quiet.stdout.replace(/s1/g, 'X'),
      flagWins.stdout.replace(/s3/g, 'X'),
      'stdout does not depend on the level',
    );
  });

  it('a bad --log-level or HPO_LOG_LEVEL is a usage error (exit 2) naming the allowed levels', async () => {
    const flag = await runHpo(['--log-level', 'loud', 'models']);
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /--log-level.*expected one of: trace, debug, info, warn, error, fatal, silent/);
    const env = await runHpo(['models'], { HPO_LOG_LEVEL: 'loud' });
    assert.equal(env.code, 2, env.stderr);
    assert.match(env.stderr, /HPO_LOG_LEVEL: expected one of trace, debug, info, warn, error, fatal, silent/);
  });
});
