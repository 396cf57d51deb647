/**
 * A mixed fleet (issue 25 item 2) on a real nats-server with real `hpo worker` and `hpo search`
 * processes: trials go by task route, so a worker that does not offer a task is never handed its trials
 * (no refusal, no false failure, no starved search), and while no live worker offers the task the
 * trials wait and the search says so.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { SqliteStore } from '../orchestrator/store/index.js';
import { fileSha256 } from '../worker/tasks/index.js';
import { startHpo, captureOutput as capture } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { DEFINE_TASK_URL, tempDir, writeFile } from './helpers/user-tasks.js';
import { workerArgs } from './helpers/spawn-worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An instant task: one epoch, no waiting. */
const TASK = `import { defineTask } from '${DEFINE_TASK_URL}';
export default defineTask({
  name: 'parabola',
  metrics: ['loss'],
  async run(spec, ctx) {
    await ctx.reportEpoch(1, { loss: (spec.params.x - 7) ** 2 });
  },
});
`;

async function until(what: string, check: () => boolean, ms = 120_000, log?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}\n${log?.() ?? ''}`);
    await sleep(100);
  }
}

describe('a mixed fleet over NATS (real nats-server, hpo worker and hpo search processes)', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  const children: ChildProcess[] = [];

  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await server.stop();
  });

  it('20 trials of a task one worker offers: they wait (and the search says so) while only a built-in worker is up, then all run on the worker offering the task; the other is never handed one', async () => {
    const dir = tempDir('mixed-fleet');
    const file = writeFile(dir, 'my-task.mjs', TASK);
    const label = `parabola@${fileSha256(file).slice(0, 12)}`;
    const xs = Array.from({ length: 20 }, (_, i) => i).join(', ');
    const sweep = writeFile(
      dir,
      'sweep.yaml',
      `method: grid\nmetric: {name: loss, goal: minimize}\ntask: ./my-task.mjs\nparameters:\n  x: {values: [${xs}]}\n`,
    );
    const worker = (name: string, extra: string[]) => {
      const w = startHpo(workerArgs(server.url, name, { extra }));
      children.push(w);
      return capture(w);
    };
    const plainLog = worker('plain', []);
    await until(
      'the built-in worker up',
      () => /hpo worker plain: 2 slot/.test(plainLog()),
      120_000,
      plainLog,
    );

    const db = join(dir, 'hpo.db');
    const search = startHpo(['search', sweep, '--name', 'mixed', '--db', db, '--nats', server.url]);
    children.push(search);
    const searchLog = capture(search);
    // Nobody offers the task yet: the trials wait in their task's queue, and the search says why.
    await until(
      'the search to say no worker offers the task',
      () => searchLog().includes(`no worker offers task ${label}`),
      120_000,
      () => `${searchLog()}\n--- plain:\n${plainLog()}`,
    );
    const peek = SqliteStore.open(db);
    try {
      assert.deepEqual(
        (await peek.listTrials('mixed')).filter((t) => t.state !== 'queued'),
        [],
        'no trial ran, failed or was refused meanwhile',
      );
    } finally {
      await peek.close();
    }

    const capableLog = worker('capable', ['--task', file]);
    const code = await new Promise<number | null>((resolve) => search.once('exit', resolve));
    const logs = () => `${searchLog()}\n--- plain:\n${plainLog()}\n--- capable:\n${capableLog()}`;
    assert.equal(code, 0, logs());
    const store = SqliteStore.open(db);
    try {
      const trials = await store.listTrials('mixed');
      assert.equal(trials.length, 20);
      assert.deepEqual(
        trials.filter((t) => t.state !== 'completed').map((t) => [t.trial_id, t.state, t.error]),
        [],
        'every trial completed, none failed',
      );
      assert.deepEqual(
        [...new Set(trials.map((t) => t.worker))],
        ['capable'],
        'every trial ran on the worker offering the task',
      );
    } finally {
      await store.close();
    }
    // The built-in worker was never handed a trial of the task: it refused none.
    assert.doesNotMatch(plainLog(), /refusing trials|does not offer task/, logs());
    assert.doesNotMatch(searchLog(), /refused by worker/, logs());
  });
});
