/**
 * Issue 25 item 4: results that arrive while the orchestrator is down count when it comes back. Real
 * nats-server, `hpo search --nats`, `hpo resume --nats` and one 2-slot `hpo worker` as OS processes:
 * the orchestrator is killed -9 with two trials running on the worker and two queued; the worker
 * finishes the running ones (their results wait on the bus) and starts the queued ones; then `hpo
 * resume` takes all four back in flight with their attempt: each is completed once, on attempt 1, with
 * the result its worker published, no result is rejected, and the worker ran exactly four trials.
 * And a trial whose message vanished while no orchestrator ran (no result on the bus) is dispatched
 * again at once on resume, the others keeping their attempt.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { listWorkers } from '../orchestrator/api/index.js';
import { busNames } from '../shared/protocol/bus.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { type NatsConnection, connectNats } from '../worker/nats/index.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { exitOf, type Proc, spawnHpo, until } from './helpers/proc.js';
import { spawnWorker } from './helpers/spawn-worker.js';

const SPACE = `method: grid
task: synthetic
metric: {name: val_acc, goal: maximize}
parameters:
  a: {values: [1, 2, 3, 4]}
  epochs: {value: 3}
  sleep_ms: {value: 700}
`;

async function trialsOf(db: string, name = 'r1') {
  if (!existsSync(db)) return [];
  let store: SqliteStore;
  try {
    store = SqliteStore.open(db, { readonly: true });
  } catch {
    return []; // being created by the search
  }
  try {
    return await store.listTrials(name);
  } finally {
    await store.close();
  }
}

describe('resume over NATS keeps the results of deliveries still current (real nats-server, hpo processes)', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  let dir: string;
  let nc: NatsConnection | undefined;
  const procs: Proc[] = [];

  before(async () => {
    server = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'hpo-resume-adopt-'));
  });
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await nc?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('kill -9 mid-search, results published while down, resume: each trial completed once on attempt 1, none run again', async () => {
    const space = join(dir, 'grid.yaml');
    const db = join(dir, 'resume.db');
    await writeFile(space, SPACE);
    nc = await connectNats({ servers: [server.url] });
    const trialsDone = async () =>
      (await listWorkers(nc!, { timeoutMs: 300 })).find((w) => w.name === 'w-resume')?.trials_done ?? -1;
    const worker = spawnWorker(server.url, 'w-resume');
    procs.push(worker);
    const search = spawnHpo(['search', space, '--name', 'r1', '--db', db, '--nats', server.url]);
    procs.push(search);
    await until(
      'two trials running',
      async () => (await trialsOf(db)).filter((t) => t.state === 'running').length === 2,
      120_000,
      search,
    );
    search.child.kill('SIGKILL');
    await search.exit;

    // While no orchestrator runs, the worker finishes the two running trials and takes the two queued.
    await until('two results published while down', async () => (await trialsDone()) >= 2, 120_000, worker);

    const resume = spawnHpo(['resume', 'r1', '--db', db, '--nats', server.url]);
    procs.push(resume);
    assert.equal(await exitOf(resume, 240_000), 0, resume.out());
    const trials = await trialsOf(db);
    assert.deepEqual(
      trials.map((t) => [t.trial_id, t.state, t.attempt, t.worker]),
      [0, 1, 2, 3].map((i) => [`t000${i}`, 'completed', 1, 'w-resume']),
    );
    assert.ok(trials.every((t) => t.epochs === 3 && t.value !== null));
    assert.doesNotMatch(resume.out(), /not the token of its current delivery/);
    await until('the worker to report its trials', async () => (await trialsDone()) >= 4, 30_000, worker);
    assert.equal(await trialsDone(), 4, 'a trial ran again');
    worker.child.kill('SIGTERM');
    assert.equal(await exitOf(worker, 60_000), 0, worker.out());
  });

  it('a trial whose message vanished while no orchestrator ran is dispatched again at once on resume; the others keep their attempt', async () => {
    const space = join(dir, 'grid.yaml');
    const db = join(dir, 'vanished.db');
    const search = spawnHpo(['search', space, '--name', 'r2', '--db', db, '--nats', server.url]);
    procs.push(search);
    await until(
      'four trials queued',
      async () => (await trialsOf(db, 'r2')).filter((t) => t.state === 'queued').length === 4,
      120_000,
      search,
    );
    search.child.kill('SIGKILL');
    await search.exit;
    // Someone acks t0001's message away (no worker ran it): nothing will ever report on that delivery.
    const store = SqliteStore.open(db, { readonly: true });
    const busId = (await store.getExperiment('r2'))!.bus_id;
    await store.close();
    const jsm = await jetstreamManager(nc!);
    const names = busNames();
    for (let seq = 1; ;) {
      const m = await jsm.streams.getMessage(names.trialsStream, {
        seq,
        next_by_subj: names.experimentTrials(busId),
      } as unknown as { seq: number });
      assert.ok(m, 'no message of t0001 in the queue');
      if ((JSON.parse(m.string()) as { trial_id: string }).trial_id === 't0001') {
        await jsm.streams.deleteMessage(names.trialsStream, m.seq);
        break;
      }
      seq = m.seq + 1;
    }
    const worker = spawnWorker(server.url, 'w-r2');
    procs.push(worker);
    const resume = spawnHpo(['resume', 'r2', '--db', db, '--nats', server.url]);
    procs.push(resume);
    assert.equal(await exitOf(resume, 240_000), 0, resume.out());
    assert.deepEqual(
      (await trialsOf(db, 'r2')).map((t) => [t.trial_id, t.state, t.attempt]),
      [
        ['t0000', 'completed', 1],
        ['t0001', 'completed', 2],
        ['t0002', 'completed', 1],
        ['t0003', 'completed', 1],
      ],
    );
    assert.match(resume.out(), /t0001 attempt 1: its trial message was gone when the orchestrator came back/);
    worker.child.kill('SIGTERM');
    assert.equal(await exitOf(worker, 60_000), 0, worker.out());
  });
});
