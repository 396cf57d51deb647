/**
 * A hostile bus client against real processes (nats-server, `hpo worker`, `hpo search --nats`): it can
 * publish anything on an open bus, and learns the experiment's subjects by listening. Forged results,
 * epochs and decision requests are rejected and counted (only the token of a trial's current delivery
 * is trusted); a forged cancel costs a re-run, not the trial; a trial of another protocol version stays
 * queued for a compatible worker; two experiments of the same name never mix; a worker saves models only
 * under its own --models-dir, never where a message says.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { freePort } from '../bench/nats-server.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import { encodeMessage } from '../shared/protocol/validate.js';
import { taskRoute } from '../shared/protocol/bus.js';
import { type NatsConnection, connectNats } from '../worker/nats/index.js';
import { runHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { exitOf, type Proc, spawnHpo, until } from './helpers/proc.js';
import { workerArgs } from './helpers/spawn-worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function grid(values: number[], epochs: number, sleepMs: number): string {
  return `method: grid\ntask: synthetic\nmetric: {name: val_acc, goal: maximize}\nparameters:\n  a: {values: [${values.join(', ')}]}\n  epochs: {value: ${epochs}}\n  sleep_ms: {value: ${sleepMs}}\n`;
}

/** What the attacker learns by listening: the experiment's bus id (subject) and its trials. */
interface Seen {
  id?: string;
  experiment?: string;
  trials: Set<string>;
}

function listen(nc: NatsConnection): Seen {
  const seen: Seen = { trials: new Set() };
  nc.subscribe('hpo.events.>', {
    callback: (err, msg) => {
      if (err || !msg.subject.endsWith('.epoch')) return;
      const e = JSON.parse(new TextDecoder().decode(msg.data)) as { experiment: string; trial_id: string };
      seen.id = msg.subject.split('.')[2];
      seen.experiment = e.experiment;
      seen.trials.add(e.trial_id);
    },
  });
  return seen;
}

describe('trust: a hostile bus client against real hpo processes', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  let dir: string;
  let procs: Proc[] = [];
  let attacker: NatsConnection;
  const hpo = (args: string[]) => {
    const p = spawnHpo(args);
    procs.push(p);
    return p;
  };
  const worker = (name: string, extra: string[] = []) => hpo(workerArgs(server.url, name, { extra }));

  beforeEach(async () => {
    server = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'hpo-trust-'));
    attacker = await connectNats({ servers: [server.url], name: 'attacker' });
  });
  afterEach(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    procs = [];
    await attacker.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('forged results, epochs, decision requests and a cancel change nothing; each is counted; an unreadable trial stays queued', async () => {
    const w = worker('w1');
    const space = join(dir, 'space.yaml');
    await writeFile(space, grid([1, 2, 3, 4], 4, 700));
    const db = join(dir, 'hpo.db');
    const metricsPort = await freePort();
    const seen = listen(attacker);
    await attacker.flush();
    const search = hpo([
      'search',
      space,
      '--name',
      'target',
      '--db',
      db,
      '--nats',
      server.url,
      '--metrics-port',
      String(metricsPort),
    ]);
    await until('an epoch on the bus', () => seen.id !== undefined && seen.trials.size >= 2, 120_000, search);
    const id = seen.id!;
    const experiment = seen.experiment!;
    const js = jetstream(attacker);
    const forged = 'F'.repeat(22);
    const now = Date.now();
    // 1. A better result for every trial, from "evil", with HTML in the backend.
    for (let i = 0; i < 4; i++) {
      await js.publish(
        `hpo.events.${id}.result`,
        encodeMessage({
          v: PROTOCOL_VERSION,
          experiment,
          experiment_id: id,
          token: forged,
          trial_id: `t000${i}`,
          attempt: 1,
          state: 'completed',
          metrics: { val_acc: 0.99999 },
          epochs: 4,
          worker: 'evil',
          backend: '<img src=x onerror=alert(1)>',
          started_at: now,
          ended_at: now,
        }),
      );
    }
    // 2. An epoch far past the trial's epochs, as an event and as a decision request; 3. an epoch with a
    // made-up token.
    const epoch = (n: number, trial: string) =>
      encodeMessage({
        v: PROTOCOL_VERSION,
        experiment,
        experiment_id: id,
        token: forged,
        trial_id: trial,
        attempt: 1,
        epoch: n,
        metrics: { val_acc: 0.5 },
        worker: 'evil',
      });
    await js.publish(`hpo.events.${id}.epoch`, epoch(4294967295, 't0000'));
    await js.publish(`hpo.events.${id}.epoch`, epoch(3, 't0001'));
    await assert.rejects(attacker.request(`hpo.decide.${id}`, epoch(4294967295, 't0000'), { timeout: 500 }));
    await assert.rejects(attacker.request(`hpo.decide.${id}`, epoch(2, 't0001'), { timeout: 500 }));
    // 4. A cancel: the worker aborts, but hands the trials back (they run again).
    attacker.publish(
      `hpo.cancel.${id}`,
      encodeMessage({ v: PROTOCOL_VERSION, experiment, experiment_id: id }),
    );
    // 5. A trial of a future protocol version: no worker here can read it; it must stay in the queue.
    const future = await js.publish(
      `hpo.trials.${id}.${taskRoute('synthetic')}`,
      encodeMessage({
        v: PROTOCOL_VERSION + 1,
        experiment,
        experiment_id: id,
        trial_id: 'tfuture',
        whatever: 1,
      }),
    );
    // Every forgery counted in hpo_invalid_messages_total (4 results, 2 epochs, 2 decision requests).
    let invalid = 0;
    await until(
      'the forgeries to be counted',
      async () => {
        const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
        const m = /^hpo_invalid_messages_total(?:\{[^}]*\})? (\d+)/m.exec(text);
        invalid = m ? Number(m[1]) : 0;
        return invalid >= 8;
      },
      60_000,
      search,
    );

    const jsm = await jetstreamManager(attacker);
    await until(
      'the worker to see the unreadable trial',
      async () => {
        const r = await runHpo(['workers', '--nats', server.url, '--json', '--wait', '600']);
        const list = JSON.parse(r.stdout || '[]') as { name: string; v: number; invalid_messages: number }[];
        const me = list.find((x) => x.name === 'w1');
        if (me) assert.equal(me.v, PROTOCOL_VERSION, 'the heartbeat announces the protocol version');
        return (me?.invalid_messages ?? 0) >= 1;
      },
      60_000,
      w,
    );
    const still = await jsm.streams.getMessage('HPO_TRIALS', { seq: future.seq }).catch(() => null);
    assert.ok(still, 'a trial the worker could not read was deleted from the queue');

    assert.equal(await exitOf(search, 180_000), 0, search.out());
    const store = SqliteStore.open(db);
    try {
      const trials = await store.listTrials('target');
      assert.deepEqual(
        trials.map((t) => [t.trial_id, t.state, t.worker, t.epochs]),
        ['t0000', 't0001', 't0002', 't0003'].map((t) => [t, 'completed', 'w1', 4]),
      );
      for (const t of trials) {
        assert.notEqual(t.value, 0.99999);
        assert.ok(!(t.backend ?? '').includes('<'), `backend ${t.backend}`);
        assert.ok((await store.listEpochs('target', t.trial_id)).every((e) => e.epoch <= 4));
      }
    } finally {
      await store.close();
    }
    assert.ok(invalid >= 8, `hpo_invalid_messages_total ${invalid}`);
  });

  it('two experiments of the same name on one bus: interrupting one leaves the other whole', async () => {
    const w = worker('w1', ['--concurrency', '3']);
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    await writeFile(a, grid([1, 2, 3, 4], 3, 600));
    await writeFile(b, grid([11, 12, 13, 14], 3, 600));
    const seen = listen(attacker);
    await attacker.flush();
    const first = hpo(['search', a, '--name', 'twin', '--db', join(dir, 'a.db'), '--nats', server.url]);
    const second = hpo(['search', b, '--name', 'twin', '--db', join(dir, 'b.db'), '--nats', server.url]);
    await until('both experiments running', () => seen.trials.size >= 2, 120_000, first);
    await sleep(500);
    second.child.kill('SIGINT'); // its cancel purges its own queue only
    assert.equal(await exitOf(second, 60_000), 130, second.out());
    assert.equal(
      await exitOf(first, 120_000).catch((e: Error) => `${e.message}\n--- worker:\n${w.out()}`),
      0,
      first.out(),
    );
    const storeA = SqliteStore.open(join(dir, 'a.db'));
    const storeB = SqliteStore.open(join(dir, 'b.db'));
    try {
      const trials = await storeA.listTrials('twin');
      assert.deepEqual(
        trials.map((t) => [t.params.a, t.state, t.epochs]),
        [1, 2, 3, 4].map((x) => [x, 'completed', 3]),
      );
      const idA = (await storeA.getExperiment('twin'))!.bus_id;
      const idB = (await storeB.getExperiment('twin'))!.bus_id;
      assert.notEqual(idA, idB);
      assert.equal((await storeB.getExperiment('twin'))!.status, 'interrupted');
      // B's results never reached A: every epoch A recorded is one of its own trials' (3 each).
      for (const t of trials) assert.equal((await storeA.listEpochs('twin', t.trial_id)).length, 3);
    } finally {
      await storeA.close();
      await storeB.close();
    }
  });

  it('a worker saves models only under its own --models-dir, at <id>/<trial> (the orchestrator fetches its own copy); a path in a message is never used', async () => {
    const models = join(dir, 'worker-models');
    const victim = join(dir, 'victim');
    await mkdir(victim);
    await writeFile(join(victim, 'precious.txt'), 'keep me');
    const w = hpo(
      workerArgs(server.url, 'mw', { concurrency: 1, backend: 'wasm', extra: ['--models-dir', models] }),
    );
    // The old attack: a trial naming a folder to save into (and so to delete first).
    const js = jetstream(attacker);
    await until(
      'the queue',
      async () => {
        try {
          await (await jetstreamManager(attacker)).streams.info('HPO_TRIALS');
          return true;
        } catch {
          return false;
        }
      },
      60_000,
      w,
    );
    await js.publish(
      `hpo.trials.x.${taskRoute('multi-digit-mnist')}`,
      encodeMessage({
        v: PROTOCOL_VERSION,
        experiment: 'x',
        experiment_id: 'x',
        token: 'T'.repeat(22),
        trial_id: 't0',
        attempt: 1,
        task: 'multi-digit-mnist',
        params: { arch: 'mlp', epochs: 1, train_size: 200 },
        seed: 1,
        save_model: { dir: victim },
      }),
    );
    const space = join(dir, 'tiny.yaml');
    await writeFile(
      space,
      'method: grid\ntask: multi-digit-mnist\nparameters:\n  arch: {value: mlp}\n  batch_size: {value: 64}\n  epochs: {value: 1}\n  train_size: {value: 500}\n',
    );
    const db = join(dir, 'm.db');
    const search = hpo([
      'search',
      space,
      '--name',
      'saved',
      '--db',
      db,
      '--nats',
      server.url,
      '--save-models',
      'all',
    ]);
    assert.equal(await exitOf(search, 240_000), 0, `${search.out()}\n--- worker:\n${w.out()}`);
    const store = SqliteStore.open(db);
    try {
      const id = (await store.getExperiment('saved'))!.bus_id;
      // The worker saved under its own root; the orchestrator fetched the files into its own root
      // (hpo-models/ beside the db) through the object store and recorded that path.
      assert.ok(existsSync(join(models, id, 't0000', 'hpo-model.json')));
      const [model] = await store.listModels('saved');
      assert.equal(model?.path, join(dir, 'hpo-models', id, 't0000'));
      assert.ok(existsSync(join(model.path, 'hpo-model.json')));
    } finally {
      await store.close();
    }
    assert.equal(await readFile(join(victim, 'precious.txt'), 'utf8'), 'keep me');
    assert.ok(!existsSync(join(victim, 'model.json')));
  });
});
