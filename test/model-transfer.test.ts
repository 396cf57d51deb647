/**
 * Models saved by remote workers reach the orchestrator's machine through the JetStream object store
 * (issue 15, item 10), on a real nats-server running deploy/nats/nats-server.conf (each process as its
 * role): an `hpo worker` with its own --models-dir in a separate temp folder (the "remote machine"), an
 * `hpo search --nats --save-models top:1` elsewhere; then `hpo export` from the orchestrator's database
 * gives the model files and `hpo evaluate` scores them. A model over the worker's limit is reported, not
 * sent; the orchestrator refuses hostile objects (a wrong name, over its limit, a digest no upload has,
 * weights pointing outside the folder) and writes nothing for them; another worker's overwrite does not
 * hide the upload a result describes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { ModelFetcher, ModelRefusedError } from '../orchestrator/artifacts/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { silentLogger } from '../shared/log/index.js';
import { busNames } from '../shared/protocol/bus.js';
import { PROTOCOL_VERSION, type ResultEvent, type TrialSpec } from '../shared/protocol/index.js';
import type { ModelFileDigest } from '../shared/protocol/model-transfer.js';
import { validateResultEvent } from '../shared/protocol/validate.js';
import { type NatsConnection, connectNats } from '../worker/nats/index.js';
import { sendModel } from '../worker/nats/model-upload.js';
import type { WorkerState } from '../worker/nats/worker-state.js';
import { runHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { ROLES_CONFIG, ROLE_PASSWORDS, asRole } from './helpers/nats-roles.js';
import { type Proc, spawnHpo } from './helpers/proc.js';
import { skipUnlessNativeBackend } from './helpers/native-backend.js';
import { workerArgs } from './helpers/spawn-worker.js';

const SPACE = [
  'method: grid',
  'task: multi-digit-mnist',
  'parameters:',
  '  arch: {value: mlp}',
  '  optimizer: {value: adam}',
  '  learning_rate: {value: 0.002}',
  '  batch_size: {values: [32, 64]}',
  '  epochs: {value: 1}',
  '  train_size: {value: 1000}',
  '',
].join('\n');

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await p.exit;
}

describe('saved models over NATS: the object store brings remote workers’ models to the orchestrator', function () {
  this.timeout(600_000);
  let server: NatsServerHandle;
  let dir: string;
  const conns: NatsConnection[] = [];
  const connect = async (user: 'orchestrator' | 'worker') => {
    const nc = await connectNats({ servers: [server.url], user, pass: asRole(user).HPO_NATS_PASS });
    conns.push(nc);
    return nc;
  };

  before(async () => {
    server = await startNatsServer({ configFile: ROLES_CONFIG, env: ROLE_PASSWORDS });
    dir = await mkdtemp(join(tmpdir(), 'hpo-model-transfer-'));
  });
  after(async () => {
    for (const nc of conns) if (!nc.isClosed()) await nc.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const backend of ['wasm', 'tensorflow'] as const) {
    it(`a remote worker’s best model (backend ${backend}) lands under the orchestrator’s root; export and evaluate work there; the bucket ends empty`, async function () {
      if (backend === 'tensorflow') skipUnlessNativeBackend(this);
      const remote = join(dir, `remote-machine-${backend}`);
      const here = join(dir, `orchestrator-machine-${backend}`);
      await mkdir(remote);
      await mkdir(here);
      const worker = spawnHpo(
        workerArgs(server.url, 'far', {
          concurrency: 1,
          backend,
          extra: ['--models-dir', join(remote, 'models')],
        }),
        asRole('worker'),
      );
      try {
        const space = join(here, 'tiny.yaml');
        await writeFile(space, SPACE);
        const db = join(here, 'o.db');
        const search = spawnHpo(
          ['search', space, '--name', 'moved', '--db', db, '--nats', server.url, '--save-models', 'top:1'],
          asRole('orchestrator'),
        );
        assert.equal(await search.exit, 0, `${search.out()}\n--- worker:\n${worker.out()}`);
        const store = SqliteStore.open(db);
        let best;
        let busId: string;
        try {
          busId = (await store.getExperiment('moved'))!.bus_id;
          const trials = await store.listTrials('moved');
          assert.deepEqual(
            trials.map((t) => [t.state, t.worker, t.backend]),
            [
              ['completed', 'far', backend],
              ['completed', 'far', backend],
            ],
          );
          best = (await store.leaderboard('moved', { top: 1 }))[0];
          const models = await store.listModels('moved');
          assert.deepEqual(
            models.map((m) => [m.trial_id, m.path]),
            [[best.trial_id, join(here, 'hpo-models', busId, best.trial_id)]],
            'one model, in the orchestrator’s own root (never the worker’s path)',
          );
        } finally {
          await store.close();
        }
        // The worker saved both on its own machine; only the best one came over.
        for (const t of ['t0000', 't0001'])
          assert.ok(existsSync(join(remote, 'models', busId, t, 'model.json')));
        assert.deepEqual(await readdir(join(here, 'hpo-models', busId)), [best.trial_id]);
        // Fetched or not kept, every object was deleted from the bucket.
        const os = await new Objm(await connect('orchestrator')).open('hpo_models');
        assert.deepEqual(
          (await os.list()).map((o) => o.name),
          [],
        );

        const out = join(here, 'exported');
        const exp = await runHpo(['export', 'moved', '--db', db, '--out', out]);
        assert.equal(exp.code, 0, exp.stderr);
        assert.match(exp.stdout, new RegExp(`exported moved/${best.trial_id}`));
        // The worker's machine is gone: what the orchestrator holds is enough.
        await rm(remote, { recursive: true, force: true });
        const ev = await runHpo(['evaluate', out, '--backend', backend, '--json']);
        assert.equal(ev.code, 0, ev.stderr);
        const e = JSON.parse(ev.stdout);
        assert.equal(e.trial, best.trial_id);
        assert.equal(e.test_acc, best.metrics!.test_acc, 'the model scores exactly what its trial recorded');
      } finally {
        await stop(worker);
      }
    });
  }

  it('a model over the worker’s --max-model-mb stays on the worker: the result says so, nothing is recorded', async () => {
    const remote = join(dir, 'small-limit');
    const worker = spawnHpo(
      workerArgs(server.url, 'tight', {
        concurrency: 1,
        backend: 'wasm',
        extra: ['--models-dir', join(remote, 'models'), '--max-model-mb', '0.01'],
      }),
      asRole('worker'),
    );
    try {
      const space = join(dir, 'one.yaml');
      await writeFile(space, SPACE.replace('{values: [32, 64]}', '{value: 64}'));
      const db = join(dir, 'limit.db');
      const search = spawnHpo(
        ['search', space, '--name', 'toobig', '--db', db, '--nats', server.url, '--save-models', 'all'],
        asRole('orchestrator'),
      );
      assert.equal(await search.exit, 0, `${search.out()}\n--- worker:\n${worker.out()}`);
      assert.match(search.out(), /model of trial t0000 was not sent/);
      assert.match(search.out(), /over this worker's limit of 10485 bytes/);
      const store = SqliteStore.open(db);
      try {
        assert.equal((await store.listTrials('toobig'))[0].state, 'completed');
        assert.deepEqual(await store.listModels('toobig'), []);
      } finally {
        await store.close();
      }
      const exp = await runHpo(['export', 'toobig', '--db', db, '--out', join(dir, 'none')]);
      assert.equal(exp.code, 2);
      assert.match(exp.stderr, /has no saved model/);
    } finally {
      await stop(worker);
    }
  });

  it('the orchestrator refuses hostile objects (names, size, digest, weights outside) and writes nothing; an overwrite does not hide the real upload', async () => {
    const bus = 'b0b0b0b0b0b0b0b0';
    const orch = await connect('orchestrator');
    const root = join(dir, 'fetch-root');
    const fetcher = await ModelFetcher.open(orch, { experimentId: bus, root, maxBytes: 4096 });
    // A worker (its credential, its uploader) sending a folder of files as a trial's model.
    const wnc = await connect('worker');
    const state = {
      nc: wnc,
      js: jetstream(wnc),
      names: busNames(),
      options: {},
      logger: silentLogger(),
    } as unknown as WorkerState;
    const spec = { experiment: 'x', experiment_id: bus, save_model: true, attempt: 1 } as TrialSpec;
    const modelJson = (paths: string[]) =>
      JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths, weights: [] }] });
    const meta = JSON.stringify({ format: 'hpo-model', version: 1 });
    const send = async (trialId: string, files: Record<string, string>): Promise<ModelFileDigest[]> => {
      const folder = join(dir, 'sent', trialId, String(Math.random()).slice(2));
      await mkdir(folder, { recursive: true });
      for (const [name, text] of Object.entries(files)) await writeFile(join(folder, name), text);
      const r = await sendModel(state, { ...spec, trial_id: trialId }, {
        model: { path: folder },
      } as ResultEvent);
      assert.ok(r.model?.files, `sent: ${r.model?.not_sent}`);
      return r.model.files;
    };
    const good = {
      'model.json': modelJson(['./weights.bin']),
      'weights.bin': 'w'.repeat(100),
      'hpo-model.json': meta,
    };
    const refused = async (trialId: string, files: ModelFileDigest[], why: RegExp) => {
      await assert.rejects(
        fetcher.fetch(trialId, files),
        (e: Error) => e instanceof ModelRefusedError && why.test(e.message),
      );
      assert.ok(!existsSync(join(root, bus, trialId)), `nothing written for ${trialId}`);
    };

    // A good one comes over, and discard removes its objects.
    const okFiles = await send('t1', good);
    const path = await fetcher.fetch('t1', okFiles);
    assert.equal(path, join(root, bus, 't1'));
    assert.equal(await readFile(join(path, 'weights.bin'), 'utf8'), 'w'.repeat(100));
    await fetcher.discard('t1');
    const os = await new Objm(orch).open('hpo_models');
    assert.equal(await os.info(`${bus}/t1/weights.bin`).then((i) => i?.deleted ?? true), true);

    // Names: a file list naming anything else is refused by the protocol and by the fetcher.
    const t2 = await send('t2', good);
    const renamed = t2.map((f) => (f.name === 'weights.bin' ? { ...f, name: '../../evil' } : f));
    await refused('t2', renamed, /unexpected file name "\.\.\/\.\.\/evil"; weights\.bin missing/);
    const wire = validateResultEvent({
      v: PROTOCOL_VERSION,
      experiment: 'x',
      experiment_id: bus,
      token: 'T'.repeat(22),
      trial_id: 't2',
      attempt: 1,
      state: 'completed',
      metrics: {},
      epochs: 1,
      worker: 'w',
      started_at: Date.now() - 2,
      ended_at: Date.now() - 1,
      model: { path: '/m', files: renamed },
    });
    assert.ok(!wire.ok && /model\.files\[1\]\.name/.test(wire.error), JSON.stringify(wire));

    // Size: over the orchestrator's limit, refused before anything is read.
    const big = await send('t3', { ...good, 'weights.bin': 'w'.repeat(5000) });
    await refused('t3', big, /over the limit of 4096/);
    // ... and an object bigger than the result says.
    await refused(
      't3',
      big.map((f) => (f.name === 'weights.bin' ? { ...f, size: 100 } : f)),
      /is 5000 bytes, the result says 100/,
    );

    // Another (compromised) worker overwrites t4's upload: the orchestrator still takes the upload t4's
    // result describes (the bucket keeps earlier descriptions: no rollups) ...
    const t4 = await send('t4', good);
    await send('t4', { ...good, 'weights.bin': 'x'.repeat(100) });
    assert.equal(await fetcher.fetch('t4', t4), join(root, bus, 't4'));
    assert.equal(await readFile(join(root, bus, 't4', 'weights.bin'), 'utf8'), 'w'.repeat(100));
    // ... and a digest that no upload of the name has is refused.
    const t4b = await send('t4b', good);
    await refused(
      't4b',
      t4b.map((f) => (f.name === 'weights.bin' ? { ...f, sha256: 'a'.repeat(64) } : f)),
      /weights\.bin has sha256 [0-9a-f]{64}, the result says a{64}/,
    );

    // Weights named outside the folder: refused even with matching digests.
    const t5 = await send('t5', { ...good, 'model.json': modelJson(['../../../etc/passwd']) });
    await refused('t5', t5, /must name only weights\.bin/);
    // Not an hpo model description.
    const t6 = await send('t6', { ...good, 'hpo-model.json': '{"format":"other"}' });
    await refused('t6', t6, /not an hpo model description/);

    // A folder at the destination that is not a saved model is never replaced.
    await mkdir(join(root, bus, 't7'), { recursive: true });
    await writeFile(join(root, bus, 't7', 'precious.txt'), 'keep me');
    await assert.rejects(fetcher.fetch('t7', await send('t7', good)), /will not replace/);
    assert.equal(await readFile(join(root, bus, 't7', 'precious.txt'), 'utf8'), 'keep me');
    // Refused uploads stay in the bucket until discarded or expired (what the first test saw empty).
    const left = (await os.list()).map((o) => o.name);
    assert.ok(
      left.includes(`${bus}/t2/model.json`) && !left.includes(`${bus}/t1/model.json`),
      left.join(', '),
    );
  });

  it('a fetch folder left by a process killed during a fetch is removed on start; only ours, only stale (issue 24)', async () => {
    const bus = 'c1c1c1c1c1c1c1c1';
    const root = join(dir, 'stale-root');
    const exp = join(root, bus);
    // A process that has ended: its pid is free (a kill -9 during a fetch leaves its folder).
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const started = Date.now() - process.uptime() * 1000;
    const folders = {
      dead: `t0000.fetch-${dead}-${Date.now() - 60_000}`,
      // This pid, but from before this process started: an earlier process with the same pid.
      reused: `t0001.fetch-${process.pid}-${Math.floor(started) - 60_000}`,
      // A live process (this one's parent) may be fetching right now: kept.
      live: `t0002.fetch-${process.ppid}-${Date.now()}`,
      // Not a fetch folder: kept.
      other: 't0003.fetch-notes',
      model: 't0004',
    };
    for (const f of Object.values(folders)) {
      await mkdir(join(exp, f), { recursive: true });
      await writeFile(join(exp, f, 'weights.bin'), Buffer.alloc(1024));
    }
    await ModelFetcher.open(await connect('orchestrator'), { experimentId: bus, root });
    assert.deepEqual((await readdir(exp)).sort(), [folders.live, folders.other, folders.model].sort());
  });
});
