/**
 * User tasks across processes (issue 14): `hpo worker --task ./my-task.mjs` on a real nats-server, one
 * worker killed -9 mid-search; `hpo workers` lists each worker's tasks; a trial naming a task no worker
 * offers is never handed to a worker (never imported): it waits, and the orchestrator says no worker
 * offers task X@sha.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NatsTransport } from '../orchestrator/transport/nats/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import { silentLogger } from '../shared/log/index.js';
import { connectNats, NatsWorker } from '../worker/nats/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { TaskOffers, fileSha256 } from '../worker/tasks/index.js';
import { Recorder } from './contracts/transport.contract.js';
import { runHpo, startHpo, captureOutput as capture } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { DEFINE_TASK_URL, tempDir, writeFile } from './helpers/user-tasks.js';
import { workerArgs } from './helpers/spawn-worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TASK = `import { defineTask } from '${DEFINE_TASK_URL}';
export default defineTask({
  name: 'slow-quad',
  metrics: ['loss'],
  async run(spec, ctx) {
    for (let epoch = 1; epoch <= 3; epoch++) {
      await new Promise((r) => setTimeout(r, 150));
      const loss = (spec.params.x - 4) ** 2 + 1 / epoch;
      if ((await ctx.reportEpoch(epoch, { loss })) === 'stop') break;
    }
  },
});
`;

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe('user tasks over NATS (real nats-server)', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  const children: ChildProcess[] = [];

  before(async () => {
    server = await startNatsServer();
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });
  after(async () => {
    await server.stop();
  });

  it('two hpo worker --task processes, one killed -9 mid-search: every trial recorded once; hpo workers lists the task', async () => {
    const dir = tempDir('nats-task');
    const file = writeFile(dir, 'my-task.mjs', TASK);
    const sha = fileSha256(file);
    const sweep = writeFile(
      dir,
      'sweep.yaml',
      'method: grid\nmetric: {name: loss, goal: minimize}\ntask: ./my-task.mjs\nparameters:\n  x: {values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n',
    );
    const logs: (() => string)[] = [];
    for (const name of ['w1', 'w2']) {
      const w = startHpo(workerArgs(server.url, name, { extra: ['--task', file] }));
      children.push(w);
      logs.push(capture(w));
    }
    await until('both workers up', () => logs.every((l) => /hpo worker w\d: 2 slot/.test(l())));
    assert.match(logs[0](), new RegExp(`tasks slow-quad@${sha.slice(0, 12)}`));

    const listed = await runHpo(['workers', '--nats', server.url, '--json', '--wait', '1500']);
    assert.equal(listed.code, 0, listed.stderr);
    const fleet = JSON.parse(listed.stdout) as { name: string; tasks?: string[] }[];
    assert.deepEqual(
      fleet.map((w) => [w.name, w.tasks]),
      [
        ['w1', [`slow-quad@${sha.slice(0, 12)}`]],
        ['w2', [`slow-quad@${sha.slice(0, 12)}`]],
      ],
    );
    const table = await runHpo(['workers', '--nats', server.url, '--wait', '1500']);
    assert.match(table.stdout, /tasks/);
    assert.match(table.stdout, /slow-quad@/);

    const db = join(dir, 'hpo.db');
    const search = startHpo([
      'search',
      sweep,
      '--name',
      'n',
      '--db',
      db,
      '--nats',
      server.url,
      '--ack-wait',
      '3000',
    ]);
    children.push(search);
    const log = capture(search);
    await until('w1 to complete a trial', async () => {
      if (!existsSync(db)) return false;
      const peek = SqliteStore.open(db);
      try {
        return (
          (await peek.getExperiment('n')) !== undefined &&
          (await peek.listTrials('n')).some((t) => t.state === 'completed' && t.worker === 'w1')
        );
      } finally {
        await peek.close();
      }
    });
    children[0].kill('SIGKILL');
    const code = await new Promise<number | null>((resolve) => search.once('exit', resolve));
    assert.equal(code, 0, log());
    const store = SqliteStore.open(db);
    try {
      const trials = await store.listTrials('n');
      assert.equal(trials.length, 10);
      assert.equal(new Set(trials.map((t) => t.trial_id)).size, 10);
      assert.ok(
        trials.every((t) => t.state === 'completed'),
        JSON.stringify(trials.map((t) => [t.state, t.error])),
      );
      for (const t of trials) {
        const epochs = (await store.listEpochs('n', t.trial_id)).map((e) => e.epoch);
        assert.deepEqual(epochs, [1, 2, 3], `${t.trial_id}: each epoch recorded once`);
      }
      assert.equal((await store.leaderboard('n', { top: 1 }))[0].params.x, 4);
    } finally {
      await store.close();
    }
  });

  it('hpo worker: a bad --task module or a --allow-command program that cannot run is exit 2 before connecting', async () => {
    const dir = tempDir('nats-bad-flags');
    const bad = writeFile(dir, 'bad.mjs', 'export const x = 1;\n');
    const noexec = writeFile(dir, 'train.bin', '#!/bin/sh\n', false);
    for (const [args, pattern] of [
      [['--task', bad], /no default export/],
      [['--allow-command', join(dir, 'missing.py')], /no such file/],
      [['--allow-command', noexec], /not executable/],
    ] as const) {
      // Port 1: nothing listens there, so exit 2 proves the check ran before any connection.
      const r = await runHpo(['worker', '--nats', 'nats://127.0.0.1:1', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
    }
  });

  it('a trial naming a task no worker offers is never handed to a worker (never imported): it waits, and the transport says no worker offers task X@sha', async () => {
    const dir = tempDir('nats-unoffered');
    const marker = join(dir, 'imported');
    const file = writeFile(
      dir,
      'evil.mjs',
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'x');\nexport default {};\n`,
    );
    const sha = fileSha256(file);
    const nc = await connectNats({ servers: [server.url] });
    const offers = new TaskOffers(); // offers built-in tasks only
    const worker = new NatsWorker(nc, new TrialPool({ threads: 1, tasks: offers }), {
      name: 'plain',
      accept: (spec) => offers.refusal(spec),
      offered: offers.offered(),
      refuseDelayMs: 50,
      maxRefusals: 3,
      fetchExpiresMs: 1000,
      logger: silentLogger(),
    });
    await worker.start();
    const rec = new Recorder();
    const transport = new NatsTransport(await connectNats({ servers: [server.url] }), {
      maxInFlight: 2,
      logger: silentLogger(),
    });
    try {
      await transport.start(rec);
      await transport.submit({
        v: PROTOCOL_VERSION,
        experiment: 'unoffered',
        experiment_id: 'unoffered',
        trial_id: 't1',
        attempt: 1,
        task: file, // even a path: it only ever names, never locates
        task_sha256: sha,
        params: {},
        seed: 1,
      });
      const label = `${file}@${sha.slice(0, 12)}`;
      await until('the transport to say the trial waits for a worker offering its task', () =>
        transport.waitingForWorkers().some((w) => w.task === label && w.trials === 1),
      );
      assert.deepEqual(rec.results, [], 'not failed: it waits');
      assert.equal(worker.stats().refused, 0, 'never handed to the worker');
      assert.equal(existsSync(marker), false, 'never imported');
    } finally {
      await transport.close();
      await worker.close();
    }
  });
});
