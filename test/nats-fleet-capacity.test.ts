/**
 * Issue 25 item 1: over NATS, a bayes (TPE) search proposes as the fleet's slots free up, as it does
 * locally. Real nats-server, `hpo search --nats` and one 2-slot `hpo worker` as OS processes; instant
 * synthetic trials. The search starts before any worker: it creates no trial until the worker announces
 * itself, and then never has more trials created and not yet ended than the worker's 2 slots plus the
 * prefetch (a quarter of the slots, at least 1), read from the store's creation and end times. And a
 * worker killed -9 mid-search (its trial redelivered after ack_wait, its slots dropped once its heartbeats
 * stop) does not stall the search: every trial completes once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../orchestrator/store/index.js';
import type { TrialRecord } from '../orchestrator/store/types.js';
import { runHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { exitOf, type Proc, spawnHpo, until } from './helpers/proc.js';
import { spawnWorker } from './helpers/spawn-worker.js';

const TRIALS = 16;
const SLOTS = 2;
const PREFETCH = 1;

const space = (trials: number, epochs: number, sleepMs: number) => `method: bayes
task: synthetic
metric: {name: val_acc, goal: maximize}
run_cap: ${trials}
parameters:
  lr: {distribution: log_uniform_values, min: 0.00001, max: 1}
  width: {distribution: int_uniform, min: 8, max: 512}
  epochs: {value: ${epochs}}
  sleep_ms: {value: ${sleepMs}}
`;

/** Most trials created and not yet ended at any trial's creation (ends at the same ms count as ended). */
function mostInFlight(trials: readonly TrialRecord[]): { most: number; at: string } {
  let most = 0;
  let at = '';
  for (const t of trials) {
    const created = trials.filter((u) => u.created_at <= t.created_at).length;
    const ended = trials.filter((u) => u.ended_at !== null && u.ended_at <= t.created_at).length;
    if (created - ended > most) {
      most = created - ended;
      at = t.trial_id;
    }
  }
  return { most, at };
}

describe('over NATS, TPE proposes as the fleet frees slots (real nats-server, hpo processes)', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  let dir: string;
  const procs: Proc[] = [];

  before(async () => {
    server = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'hpo-fleet-capacity-'));
  });
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('no trial before a worker exists; then at most slots + prefetch trials created and not ended', async () => {
    const file = join(dir, 'bayes.yaml');
    const db = join(dir, 'fleet.db');
    await writeFile(file, space(TRIALS, 2, 0));
    const search = spawnHpo(['search', file, '--name', 'tpe', '--db', db, '--nats', server.url]);
    procs.push(search);
    // The orchestrator answers on the bus: it is up, and with no worker it has created no trial.
    await until(
      'the orchestrator answering status',
      async () => (await runHpo(['status', 'tpe', '--nats', server.url, '--json'])).code === 0,
      120_000,
      search,
    );
    const early = SqliteStore.open(db, { readonly: true });
    try {
      assert.equal((await early.listTrials('tpe')).length, 0, 'trials created with no worker on the bus');
    } finally {
      await early.close();
    }

    const workerStart = Date.now();
    const worker = spawnWorker(server.url, 'w-fleet', { concurrency: SLOTS });
    procs.push(worker);
    assert.equal(await exitOf(search, 240_000), 0, search.out());

    const store = SqliteStore.open(db, { readonly: true });
    try {
      const trials = await store.listTrials('tpe');
      assert.equal(trials.length, TRIALS);
      assert.ok(
        trials.every((t) => t.state === 'completed' && t.attempt === 1),
        JSON.stringify(trials.map((t) => [t.trial_id, t.state, t.attempt])),
      );
      const first = Math.min(...trials.map((t) => t.created_at));
      assert.ok(
        first >= workerStart,
        `a trial was created ${workerStart - first} ms before the worker started`,
      );
      const { most, at } = mostInFlight(trials);
      assert.ok(
        most <= SLOTS + PREFETCH,
        `${most} trials created and not ended when ${at} was created (slots ${SLOTS} + prefetch ${PREFETCH})`,
      );
    } finally {
      await store.close();
    }
    worker.child.kill('SIGTERM');
    assert.equal(await exitOf(worker, 60_000), 0, worker.out());
  });

  it('a worker killed -9 mid-search: its trial is redelivered to the other, the search does not stall', async () => {
    const file = join(dir, 'bayes-kill.yaml');
    const db = join(dir, 'kill.db');
    await writeFile(file, space(8, 4, 300));
    const worker = (name: string) => {
      const w = spawnWorker(server.url, name, { concurrency: 1 });
      procs.push(w);
      return w;
    };
    const [wa, wb] = [worker('w-a'), worker('w-b')];
    // Both up before the search, so each takes trials from the start.
    await until(
      'both workers on the bus',
      async () => {
        const r = await runHpo(['workers', '--nats', server.url, '--json']);
        return r.code === 0 && (JSON.parse(r.stdout) as unknown[]).length === 2;
      },
      120_000,
    );
    const search = spawnHpo([
      'search',
      file,
      '--name',
      'kill',
      '--db',
      db,
      '--nats',
      server.url,
      '--ack-wait',
      '3000',
    ]);
    procs.push(search);
    const runningOnB = async () => {
      let store: SqliteStore;
      try {
        store = SqliteStore.open(db, { readonly: true });
      } catch {
        return false; // being created
      }
      try {
        return (await store.listTrials('kill')).some((t) => t.state === 'running' && t.worker === 'w-b');
      } finally {
        await store.close();
      }
    };
    await until('a trial running on w-b', runningOnB, 120_000, search);
    wb.child.kill('SIGKILL');
    assert.equal(await exitOf(search, 240_000), 0, search.out());
    const store = SqliteStore.open(db, { readonly: true });
    try {
      const trials = await store.listTrials('kill');
      assert.equal(trials.length, 8);
      assert.ok(
        trials.every((t) => t.state === 'completed' && t.epochs === 4),
        JSON.stringify(trials.map((t) => [t.trial_id, t.state, t.attempt, t.worker])),
      );
    } finally {
      await store.close();
    }
    wa.child.kill('SIGTERM');
    assert.equal(await exitOf(wa, 60_000), 0, wa.out());
  });
});
