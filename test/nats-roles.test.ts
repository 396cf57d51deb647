/**
 * The shipped least-privilege NATS setup (deploy/nats/nats-server.conf) on a real nats-server: each role
 * does its job (an `hpo search --nats` as orchestrator, an `hpo worker` as worker, `hpo workers` and
 * `hpo status --nats` as viewer; a worker's started events are stored) and is refused the rest: a worker cannot publish a trial, a cancel or a
 * fake max-deliveries advisory, nor delete or purge stream messages; a viewer cannot cancel.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { ModelFetcher } from '../orchestrator/artifacts/index.js';
import { busNames, taskRoute } from '../shared/protocol/bus.js';
import { PROTOCOL_VERSION, type ResultEvent, type TrialSpec } from '../shared/protocol/index.js';
import { silentLogger } from '../shared/log/index.js';
import { sendModel } from '../worker/nats/model-upload.js';
import type { WorkerState } from '../worker/nats/worker-state.js';
import { encodeMessage } from '../shared/protocol/validate.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { type NatsConnection, connectNats } from '../worker/nats/index.js';
import { runHpo, startHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { ROLES_CONFIG, ROLE_PASSWORDS, asRole, permissionError } from './helpers/nats-roles.js';
import { workerArgs } from './helpers/spawn-worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The built-in synthetic task's route. */
const ROUTE = taskRoute('synthetic');

describe('NATS roles: deploy/nats/nats-server.conf on a real nats-server', function () {
  this.timeout(180_000);
  let server: NatsServerHandle;
  let dir: string;
  const conns: NatsConnection[] = [];
  const connect = async (user: 'orchestrator' | 'worker' | 'viewer') => {
    const nc = await connectNats({ servers: [server.url], user, pass: asRole(user).HPO_NATS_PASS });
    conns.push(nc);
    return nc;
  };

  before(async () => {
    server = await startNatsServer({ configFile: ROLES_CONFIG, env: ROLE_PASSWORDS });
    dir = await mkdtemp(join(tmpdir(), 'hpo-roles-'));
  });
  after(async () => {
    for (const nc of conns) if (!nc.isClosed()) await nc.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('each role does its job: a search as orchestrator, a worker as worker, workers/status as viewer', async () => {
    const space = join(dir, 'space.yaml');
    await writeFile(
      space,
      'method: grid\ntask: synthetic\nparameters:\n  a: {values: [1, 2, 3]}\n  epochs: {value: 3}\n  sleep_ms: {value: 3000}\n',
    );
    const db = join(dir, 'roles.db');
    // The worker starts first: it may not create the streams, so it waits for the orchestrator.
    const worker = startHpo(workerArgs(server.url, 'rw'), asRole('worker'));
    let workerOut = '';
    worker.stderr!.on('data', (d) => (workerOut += d));
    try {
      const search = startHpo(
        ['search', space, '--name', 'roles', '--db', db, '--nats', server.url],
        asRole('orchestrator'),
      );
      let searchOut = '';
      search.stderr!.on('data', (d) => (searchOut += d));
      const searchExit = new Promise<number | null>((r) => search.once('exit', r));
      // While it runs, the viewer sees the worker and the experiment's status.
      let status = { stdout: '', stderr: '' };
      while (!/trials: 3 total/.test(status.stdout) && search.exitCode === null) {
        status = await runHpo(['status', 'roles', '--nats', server.url], asRole('viewer'));
        await sleep(200);
      }
      assert.match(status.stdout, /^roles: running/m, `${status.stderr}\n--- search:\n${searchOut}`);
      const ws = await runHpo(['workers', '--nats', server.url, '--wait', '1500'], asRole('viewer'));
      assert.equal(ws.code, 0, ws.stderr);
      // The protocol each worker speaks is shown (an incompatible worker would be marked).
      assert.match(ws.stdout, /│ protocol │/);
      assert.match(ws.stdout, new RegExp(`│ rw +│ ${PROTOCOL_VERSION} +│ 2 +│`), ws.stdout);
      assert.equal(await searchExit, 0, `${searchOut}\n--- worker:\n${workerOut}`);
      const store = SqliteStore.open(db);
      try {
        // The worker role may publish `started` events (queued -> running): one per trial is stored.
        const id = (await store.getExperiment('roles'))!.bus_id;
        const subject = busNames().eventsSubject(id, 'started');
        const events = await (
          await jetstreamManager(await connect('orchestrator'))
        ).streams.info(busNames().eventsStream, { subjects_filter: subject });
        assert.equal(events.state.subjects?.[subject], 3, workerOut);
        const trials = await store.listTrials('roles');
        assert.deepEqual(
          trials.map((t) => [t.state, t.worker]),
          [
            ['completed', 'rw'],
            ['completed', 'rw'],
            ['completed', 'rw'],
          ],
        );
      } finally {
        await store.close();
      }
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
    // Its only refusal: creating the queue before the orchestrator did (it waited instead).
    const refused = workerOut.split('\n').filter((l) => /Permissions Violation/i.test(l));
    assert.ok(
      refused.every((l) => /waiting for the trial queue .*STREAM\.CREATE/.test(l)),
      workerOut,
    );
  });

  it('a worker cannot publish a trial, a cancel or a fake advisory, nor delete or purge queued trials', async () => {
    const names = busNames();
    const orch = await connect('orchestrator');
    const ojs = jetstream(orch);
    const ojsm = await jetstreamManager(orch);
    // A queued trial (published by the orchestrator user) the worker will try to get rid of.
    const queued = await ojs.publish(
      names.trialsSubject('victim', ROUTE),
      encodeMessage({ v: PROTOCOL_VERSION }),
    );
    // Listeners where forged messages would land: the orchestrator (advisories), a worker (cancels).
    const heard: string[] = [];
    const listen = (e: Error | null, m: { subject: string }) =>
      void (e ? heard.push(`error ${e.message}`) : heard.push(m.subject));
    orch.subscribe(names.maxDeliveriesAdvisory, { callback: listen });
    const bystander = await connect('worker');
    bystander.subscribe(names.cancelWildcard, { callback: listen });
    await orch.flush();
    await bystander.flush();

    const worker = await connect('worker');
    const wjs = jetstream(worker);
    await assert.rejects(
      wjs.publish(names.trialsSubject('victim', ROUTE), encodeMessage({ v: PROTOCOL_VERSION }), {
        timeout: 2000,
      }),
      /permission|timeout|no responders/i,
    );
    let denied = permissionError(worker);
    worker.publish(
      names.cancelSubject('victim'),
      encodeMessage({ v: PROTOCOL_VERSION, experiment: 'v', experiment_id: 'victim' }),
    );
    assert.match((await denied) ?? 'none', /hpo\.cancel\.victim/);
    denied = permissionError(worker);
    worker.publish(
      names.maxDeliveriesAdvisoryOf(ROUTE),
      encodeMessage({ stream_seq: queued.seq, deliveries: 5 }),
    );
    assert.match((await denied) ?? 'none', /ADVISORY/);
    const wjsm = await jetstreamManager(worker, { checkAPI: false });
    await assert.rejects(wjsm.streams.deleteMessage(names.trialsStream, queued.seq), /permission|timeout/i);
    await assert.rejects(wjsm.streams.purge(names.trialsStream), /permission|timeout/i);
    await assert.rejects(
      wjsm.consumers.add(names.eventsStream, { durable_name: 'snoop', ack_policy: 'explicit' as never }),
      /permission|timeout/i,
    );
    // Nor a consumer of the trials: not one of its own (the orchestrator creates a task route's), nor
    // one under a task route's name that would take every task's trials.
    await assert.rejects(
      wjsm.consumers.add(names.trialsStream, {
        durable_name: names.workersConsumer(ROUTE),
        ack_policy: 'explicit' as never,
      }),
      /permission|timeout/i,
    );
    await orch.flush();
    await sleep(200);
    assert.deepEqual(heard, [], 'nothing forged reached the orchestrator');
    // The queued trial is still there.
    const still = await ojsm.streams.getMessage(names.trialsStream, { seq: queued.seq });
    assert.equal(still?.subject, names.trialsSubject('victim', ROUTE));
    await ojsm.streams.deleteMessage(names.trialsStream, queued.seq);
  });

  it('a viewer cannot cancel, publish trials or touch the streams', async () => {
    const names = busNames();
    const bystander = await connect('worker');
    const heard: string[] = [];
    bystander.subscribe(names.cancelWildcard, {
      callback: (e, m) => void heard.push(e ? `error ${e.message}` : m.subject),
    });
    await bystander.flush();
    const viewer = await connect('viewer');
    const denied = permissionError(viewer);
    viewer.publish(
      names.cancelSubject('victim'),
      encodeMessage({ v: PROTOCOL_VERSION, experiment: 'v', experiment_id: 'victim' }),
    );
    assert.match((await denied) ?? 'none', /hpo\.cancel\.victim/);
    await assert.rejects(
      jetstream(viewer).publish(names.trialsSubject('victim', ROUTE), encodeMessage({}), { timeout: 2000 }),
      /permission|timeout|no responders/i,
    );
    const vjsm = await jetstreamManager(viewer, { checkAPI: false });
    await assert.rejects(vjsm.streams.purge(names.trialsStream), /permission|timeout/i);
    await bystander.flush();
    await sleep(200);
    assert.deepEqual(heard, []);
  });

  it('a worker may only put into the models bucket: not create, read, list, delete or purge it', async () => {
    const worker = await connect('worker');
    const wjsm = await jetstreamManager(worker, { checkAPI: false });
    // Before the orchestrator created it, a worker cannot create the bucket.
    await assert.rejects(
      new Objm(worker).create('hpo_models'),
      /permission|timeout/i,
      'a worker created the models bucket',
    );
    const orch = await connect('orchestrator');
    const fetcher = await ModelFetcher.open(orch, { experimentId: 'rolesbus', root: join(dir, 'fetched') });
    const os = await new Objm(orch).open('hpo_models');
    // Putting: a worker's upload (chunks, then the description) is accepted.
    const folder = join(dir, 'upload');
    await mkdir(folder, { recursive: true });
    for (const f of ['model.json', 'weights.bin', 'hpo-model.json']) await writeFile(join(folder, f), f);
    const state = {
      nc: worker,
      js: jetstream(worker),
      names: busNames(),
      options: {},
      logger: silentLogger(),
    };
    const sent = await sendModel(
      state as unknown as WorkerState,
      {
        experiment: 'r',
        experiment_id: 'rolesbus',
        trial_id: 't0',
        attempt: 1,
        save_model: true,
      } as TrialSpec,
      { model: { path: folder } } as ResultEvent,
    );
    assert.equal(sent.model?.files?.length, 3, sent.model?.not_sent);
    const victim = await os.info('rolesbus/t0/weights.bin');
    assert.equal(victim?.size, 'weights.bin'.length);
    const chunk = await jetstream(worker).publish('$O.hpo_models.C.workerchunk', new Uint8Array([9]));
    // Reading, listing, deleting, purging: refused.
    await assert.rejects(wjsm.streams.getMessage('OBJ_hpo_models', { seq: 1 }), /permission|timeout/i);
    await assert.rejects(
      wjsm.consumers.add('OBJ_hpo_models', { name: 'snoop', ack_policy: 'none' as never }),
      /permission|timeout/i,
    );
    await assert.rejects(wjsm.streams.purge('OBJ_hpo_models'), /permission|timeout/i);
    await assert.rejects(wjsm.streams.deleteMessage('OBJ_hpo_models', chunk.seq), /permission|timeout/i);
    await assert.rejects(
      (await new Objm(worker).open('hpo_models', false)).delete('rolesbus/t0/weights.bin'),
      /permission|timeout/i,
    );
    const still = await os.info('rolesbus/t0/weights.bin');
    assert.equal(still?.digest, victim?.digest);
    assert.equal(still?.deleted, false);
    // The orchestrator deletes: the description becomes a delete marker.
    await fetcher.discard('t0');
    assert.equal((await os.info('rolesbus/t0/weights.bin'))?.deleted, true);
  });
});
