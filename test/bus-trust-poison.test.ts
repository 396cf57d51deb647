/**
 * Issue 24, items 3-5 and 8 (orphan chunks): a hostile client with the worker role of
 * deploy/nats/nats-server.conf, on a real nats-server, against real `hpo` processes and the real object
 * store code. It cannot poison the message ids of real events (results still count), cannot multiply a
 * trial with refusals (one refusal per queued message; nothing left after an interrupted search),
 * cannot empty the models bucket with a rollup, and cannot fill the bucket with chunks no description
 * names (bounded, then purged).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { headers } from '@nats-io/transport-node';
import { freePort } from '../bench/nats-server.js';
import { ModelFetcher } from '../orchestrator/artifacts/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { silentLogger } from '../shared/log/index.js';
import { busNames, taskRoute } from '../shared/protocol/bus.js';
import { PROTOCOL_VERSION, type ResultEvent, type TrialSpec } from '../shared/protocol/index.js';
import type { ModelFileDigest } from '../shared/protocol/model-transfer.js';
import { encodeMessage } from '../shared/protocol/validate.js';
import { type NatsConnection, connectNats } from '../worker/nats/index.js';
import { sendModel } from '../worker/nats/model-upload.js';
import type { WorkerState } from '../worker/nats/worker-state.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { ROLES_CONFIG, ROLE_PASSWORDS, asRole } from './helpers/nats-roles.js';
import { exitOf, type Proc, spawnHpo, until } from './helpers/proc.js';
import { workerArgs } from './helpers/spawn-worker.js';

const MiB = 1024 * 1024;

/** The object store's description subject of an object (its name in padded base64url). */
const metaSubject = (name: string) =>
  `$O.hpo_models.M.${Buffer.from(name).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;

function grid(trials: number, epochs: number, sleepMs: number): string {
  const values = Array.from({ length: trials }, (_, i) => i + 1).join(', ');
  return `method: grid\ntask: synthetic\nmetric: {name: val_acc, goal: maximize}\nparameters:\n  a: {values: [${values}]}\n  epochs: {value: ${epochs}}\n  sleep_ms: {value: ${sleepMs}}\n`;
}

/** The bus id of the one experiment with trials queued, as a worker learns it (the trials stream's subjects). */
async function queuedExperiment(jsm: JetStreamManager): Promise<string | undefined> {
  const info = await jsm.streams.info('HPO_TRIALS', { subjects_filter: 'hpo.trials.>' }).catch(() => null);
  const subject = Object.keys(info?.state.subjects ?? {})[0];
  return subject?.split('.')[2];
}

async function metric(port: number, name: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('trust, round 2: a hostile worker-role client cannot poison ids, multiply trials or empty the models bucket', function () {
  this.timeout(600_000);
  let server: NatsServerHandle;
  let dir: string;
  let procs: Proc[] = [];
  let conns: NatsConnection[] = [];
  const connect = async (user: 'orchestrator' | 'worker') => {
    const nc = await connectNats({ servers: [server.url], user, pass: asRole(user).HPO_NATS_PASS });
    conns.push(nc);
    return nc;
  };
  const hpo = (args: string[], role: 'orchestrator' | 'worker') => {
    const p = spawnHpo(args, asRole(role));
    procs.push(p);
    return p;
  };

  beforeEach(async () => {
    server = await startNatsServer({ configFile: ROLES_CONFIG, env: ROLE_PASSWORDS });
    dir = await mkdtemp(join(tmpdir(), 'hpo-poison-'));
  });
  afterEach(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    procs = [];
    for (const nc of conns) if (!nc.isClosed()) await nc.close();
    conns = [];
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('message ids published ahead of the real events (no token) drop nothing: the search completes, every result and epoch counted', async () => {
    const space = join(dir, 'space.yaml');
    await writeFile(space, grid(4, 3, 300));
    const db = join(dir, 'hpo.db');
    const search = hpo(
      ['search', space, '--name', 'poisoned', '--db', db, '--nats', server.url, '--trial-timeout', '5'],
      'orchestrator',
    );
    // The attacker: the worker role, no token. It learns the bus id and the trial ids from the queue.
    const attacker = await connect('worker');
    const jsm = await jetstreamManager(attacker);
    let id: string | undefined;
    await until(
      'trials queued',
      async () => (id = await queuedExperiment(jsm)) !== undefined,
      120_000,
      search,
    );
    const js = jetstream(attacker);
    // Every id a real event of these trials would carry under the old scheme (ids computed from
    // experiment, trial, attempt, delivery and epoch alone), for 3 attempts and 5 deliveries.
    const body = (trial: string, attempt: number) =>
      encodeMessage({
        v: PROTOCOL_VERSION,
        experiment: 'poisoned',
        experiment_id: id,
        token: 'P'.repeat(22),
        trial_id: trial,
        attempt,
        state: 'completed',
        metrics: { val_acc: 0.99999 },
        epochs: 3,
        worker: 'evil',
        started_at: Date.now(),
        ended_at: Date.now(),
      });
    let poisoned = 0;
    for (let t = 0; t < 4; t++) {
      const trial = `t000${t}`;
      for (let attempt = 1; attempt <= 3; attempt++) {
        const base = `${id}/${trial}/${attempt}`;
        const ids = [`${base}/result`];
        for (let d = 1; d <= 5; d++) ids.push(`${base}/result/d${d}`, `${base}/started/d${d}`);
        for (let e = 1; e <= 3; e++) ids.push(`${base}/epoch/${e}`);
        for (const msgID of ids) {
          const kind = msgID.includes('/epoch/')
            ? 'epoch'
            : msgID.includes('/started/')
              ? 'started'
              : 'result';
          await js.publish(`hpo.events.${id}.${kind}`, body(trial, attempt), { msgID });
          poisoned++;
        }
      }
    }
    assert.equal(poisoned, 4 * 3 * 14);
    // Only now a real worker: every real event comes after the poison, within the duplicate window.
    const worker = hpo(workerArgs(server.url, 'w1'), 'worker');
    assert.equal(
      await exitOf(search, 180_000).catch((e: Error) => `${e.message}\n--- worker:\n${worker.out()}`),
      0,
      search.out(),
    );
    const store = SqliteStore.open(db);
    try {
      const trials = await store.listTrials('poisoned');
      assert.deepEqual(
        trials.map((t) => [t.trial_id, t.state, t.worker, t.epochs]),
        ['t0000', 't0001', 't0002', 't0003'].map((t) => [t, 'completed', 'w1', 3]),
      );
      for (const t of trials) {
        assert.notEqual(t.value, 0.99999);
        assert.deepEqual(
          (await store.listEpochs('poisoned', t.trial_id)).map((e) => e.epoch),
          [1, 2, 3],
        );
      }
    } finally {
      await store.close();
    }
    // The events stream is bounded (1 GiB by default): a flood cannot fill the server's disk.
    const orch = await jetstreamManager(await connect('orchestrator'));
    assert.equal((await orch.streams.info('HPO_EVENTS')).config.max_bytes, 1024 * MiB);
  });

  it('30 refusals with one token queue nothing extra: counted once, and no copy survives an interrupted search', async () => {
    const space = join(dir, 'space.yaml');
    await writeFile(space, grid(4, 2, 200));
    const metricsPort = await freePort();
    const search = hpo(
      [
        'search',
        space,
        '--name',
        'refused',
        '--db',
        join(dir, 'hpo.db'),
        '--nats',
        server.url,
        '--metrics-port',
        String(metricsPort),
      ],
      'orchestrator',
    );
    const attacker = await connect('worker');
    const jsm = await jetstreamManager(attacker);
    const queued = async () => (await jsm.streams.info('HPO_TRIALS')).state.messages;
    await until('4 trials queued', async () => (await queued().catch(() => 0)) === 4, 120_000, search);
    // The attacker takes one trial as a worker would: it now holds a real delivery token.
    const consumer = await jetstream(attacker).consumers.get(
      'HPO_TRIALS',
      busNames().workersConsumer(taskRoute('synthetic')),
    );
    const held = await consumer.next({ expires: 10_000 });
    assert.ok(held, 'a trial message');
    const spec = held.json<TrialSpec>();
    const seq = held.info.streamSequence;
    const js = jetstream(attacker);
    for (let i = 0; i < 30; i++) {
      await js.publish(
        `hpo.events.${spec.experiment_id}.refused`,
        encodeMessage({
          v: PROTOCOL_VERSION,
          experiment: spec.experiment,
          experiment_id: spec.experiment_id,
          trial_id: spec.trial_id,
          attempt: spec.attempt,
          token: spec.token,
          worker: 'evil',
          reason: `refusal ${i}`,
          refusals: i + 1,
          seq,
        }),
      );
    }
    held.term();
    // Every refusal read: 29 rejected (already counted), or (the old code) queued as copies.
    await until(
      'the refusals to be read',
      async () => (await metric(metricsPort, 'hpo_invalid_messages_total')) >= 29 || (await queued()) > 4,
      60_000,
      search,
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await queued(), 4, 'one message per trial: the refused one queued again once');
    const orch = await jetstreamManager(await connect('orchestrator'));
    const last = await orch.streams.getMessage('HPO_TRIALS', {
      last_by_subj: busNames().trialsSubject(spec.experiment_id, taskRoute('synthetic')),
    });
    assert.equal(last?.json<TrialSpec>().trial_id, spec.trial_id);
    assert.equal(last?.header.get('Hpo-Refusals'), '1', 'the refusal counted once');
    // Interrupted: every trial message goes, the re-queued one included.
    search.child.kill('SIGINT');
    assert.equal(await exitOf(search, 60_000), 130, search.out());
    assert.equal(await queued(), 0, 'no trial message outlives the interrupted search');
  });

  it('a description with Nats-Rollup: all from the worker role is refused; blanked or overwritten models are still fetched; an old bucket is hardened', async () => {
    const bus = 'b0b0b0b0b0b0b0b0';
    const orch = await connect('orchestrator');
    // A bucket as an older hpo created it (the object store's defaults: rollups allowed, no limit).
    await new Objm(orch).create('hpo_models');
    const fetcher = await ModelFetcher.open(orch, { experimentId: bus, root: join(dir, 'root') });
    const wnc = await connect('worker');
    const state = workerState(wnc);
    const files1 = await upload(state, bus, 't1', dir);
    const files2 = await upload(state, bus, 't2', dir);
    // The attack: one description that rolls up the whole stream.
    const h = headers();
    h.set('Nats-Rollup', 'all');
    await assert.rejects(
      jetstream(wnc).publish('$O.hpo_models.M.ZXZpbA==', '{}', { headers: h }),
      /rollup not permitted/,
    );
    // Another worker blanks t1 (delete markers) and overwrites t2 (its own upload under t2's names):
    // neither hides the uploads the results describe.
    for (const f of ['model.json', 'weights.bin', 'hpo-model.json']) {
      const marker = {
        name: `${bus}/t1/${f}`,
        bucket: 'hpo_models',
        nuid: 'x',
        size: 0,
        chunks: 0,
        digest: '',
      };
      await jetstream(wnc).publish(
        metaSubject(`${bus}/t1/${f}`),
        JSON.stringify({ ...marker, deleted: true }),
      );
    }
    await upload(state, bus, 't2', dir, 'x');
    // The old bucket was brought to the new settings: no rollups, 2 GiB at most.
    const ojsm = await jetstreamManager(orch);
    const { config } = await ojsm.streams.info('OBJ_hpo_models');
    assert.equal(config.allow_rollup_hdrs, false);
    assert.equal(config.max_bytes, 2048 * MiB);
    // Nothing was lost: both models come over, and discarding them (no rollup either) empties the list.
    assert.equal(await fetcher.fetch('t1', files1), join(dir, 'root', bus, 't1'));
    assert.equal(await fetcher.fetch('t2', files2), join(dir, 'root', bus, 't2'));
    assert.equal(await readFile(join(dir, 'root', bus, 't2', 'weights.bin'), 'utf8'), 'w'.repeat(300_000));
    await fetcher.discard('t1');
    await fetcher.discard('t2');
    const os = await new Objm(orch).open('hpo_models');
    assert.deepEqual(
      (await os.list()).map((o) => o.name),
      [],
    );
    assert.equal((await ojsm.streams.info('OBJ_hpo_models')).state.bytes < 2000, true, 'chunks purged');
    await fetcher.close();
  });

  it('chunks no description names are bounded by the bucket limit and purged once older than the grace', async () => {
    const bus = 'c0c0c0c0c0c0c0c0';
    const orch = await connect('orchestrator');
    const fetcher = await ModelFetcher.open(orch, {
      experimentId: bus,
      root: join(dir, 'root'),
      bucketMaxBytes: 2 * MiB,
      orphanGraceMs: 1500,
      sweepEveryMs: 3_600_000,
    });
    const ojsm = await jetstreamManager(orch);
    const bytes = async () => (await ojsm.streams.info('OBJ_hpo_models')).state.bytes;
    // The attack: 20 MiB of chunks under 5 uploads that never get a description.
    const js = jetstream(await connect('worker'));
    const chunk = new Uint8Array(128 * 1024).fill(7);
    let stored = 0;
    let refused = 0;
    for (let i = 0; i < 160; i++) {
      try {
        await js.publish(`$O.hpo_models.C.orphan${i % 5}`, chunk);
        stored++;
      } catch (err) {
        assert.match((err as Error).message, /maximum bytes exceeded/);
        refused++;
      }
    }
    assert.ok(stored <= 16 && refused >= 144, `stored ${stored}, refused ${refused}`);
    assert.ok((await bytes()) <= 2 * MiB);
    // A young orphan (an upload may still be under way) is kept; the old ones are purged.
    await new Promise((r) => setTimeout(r, 1600));
    await js.publish('$O.hpo_models.C.young', new Uint8Array(1000));
    await fetcher.sweep();
    const left = await ojsm.streams.info('OBJ_hpo_models', { subjects_filter: '$O.hpo_models.C.>' });
    assert.deepEqual(Object.keys(left.state.subjects ?? {}), ['$O.hpo_models.C.young']);
    // Room again: a real model is uploaded and fetched, and its chunks (described) survive a sweep.
    const state = workerState(await connect('worker'));
    const files = await upload(state, bus, 't1', dir);
    await new Promise((r) => setTimeout(r, 1600));
    await fetcher.close(); // the last sweep: the young orphan is old now
    const after = await ojsm.streams.info('OBJ_hpo_models', { subjects_filter: '$O.hpo_models.C.>' });
    assert.equal(Object.keys(after.state.subjects ?? {}).length, 3, 'the model’s three files only');
    const again = await ModelFetcher.open(orch, { experimentId: bus, root: join(dir, 'root') });
    assert.equal(await again.fetch('t1', files), join(dir, 'root', bus, 't1'));
    await again.close();
  });
});

/** A worker's state as the uploader needs it (its connection, names, logger). */
function workerState(nc: NatsConnection): WorkerState {
  return {
    nc,
    js: jetstream(nc),
    names: busNames(),
    options: {},
    logger: silentLogger(),
  } as unknown as WorkerState;
}

/** A small valid saved model uploaded by the worker code for `trialId`; the file list its result carries. */
async function upload(
  state: WorkerState,
  bus: string,
  trialId: string,
  dir: string,
  fill = 'w',
): Promise<ModelFileDigest[]> {
  const folder = join(dir, 'sent', trialId, fill);
  await mkdir(folder, { recursive: true });
  await writeFile(
    join(folder, 'model.json'),
    JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['./weights.bin'], weights: [] }] }),
  );
  await writeFile(join(folder, 'weights.bin'), fill.repeat(300_000));
  await writeFile(join(folder, 'hpo-model.json'), JSON.stringify({ format: 'hpo-model', version: 1 }));
  const spec = { experiment: 'x', experiment_id: bus, trial_id: trialId, save_model: true, attempt: 1 };
  const r = await sendModel(state, spec as TrialSpec, { model: { path: folder } } as ResultEvent);
  assert.ok(r.model?.files, `sent: ${r.model?.not_sent}`);
  return r.model.files;
}
