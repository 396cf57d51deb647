/**
 * A replicated JetStream (issue 27 item 1) on a real three-node cluster of nats-server 2.9: hpo creates
 * every stream and bucket with 3 replicas there, and a search (orchestrator and workers given all three
 * URLs) survives a node killed with SIGKILL mid-search and started again, and the loss of the node that
 * leads the trial queue: every trial is stored once, in a final state, with all its epochs, no result is
 * counted twice, and the search ends by itself.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { busNames } from '../shared/protocol/bus.js';
import { connectNats, ensureStreams } from '../shared/nats/connection.js';
import { NatsTransport, ownersBucket } from '../orchestrator/transport/nats/index.js';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import { Recorder } from './contracts/transport.contract.js';
import { ensureModelsBucket } from '../orchestrator/artifacts/models-bucket.js';
import { type NatsClusterHandle, startNatsCluster, streamLeader } from './helpers/nats-cluster.js';
import { runHpo } from './helpers/cli.js';
import { startNatsServer } from './helpers/nats-server.js';
import { audit, finalSnapshot } from './chaos/audit.js';
import { exitCode, finalTrials, HpoProcesses, sleep, until } from './chaos/cluster.js';
import { workerArgs } from './helpers/spawn-worker.js';

const DEPLOY_NATS = fileURLToPath(new URL('../../deploy/nats/', import.meta.url));
const TRIALS = 24;
const EPOCHS = 4;
const SPACE = `method: grid
task: synthetic
metric: {name: val_acc, goal: maximize}
parameters:
  a: {values: [${Array.from({ length: TRIALS / 2 }, (_, i) => i + 1).join(', ')}]}
  b: {values: [x, y]}
  epochs: {value: ${EPOCHS}}
  sleep_ms: {value: 200}
`;

describe('replicated JetStream on a 3-node nats-server cluster', function () {
  this.timeout(300_000);
  let cluster: NatsClusterHandle;
  let procs: HpoProcesses;
  let dir: string;
  let space: string;
  let urls: string;
  const names = busNames();

  before(async () => {
    cluster = await startNatsCluster();
    urls = cluster.urls.join(',');
    dir = await mkdtemp(join(tmpdir(), 'hpo-nats-cluster-test-'));
    space = join(dir, 'space.yaml');
    await writeFile(space, SPACE);
    procs = new HpoProcesses();
    for (const name of ['w1', 'w2']) procs.spawn(name, workerArgs(urls, name));
  });

  after(async () => {
    await procs?.stop();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Starts a search, runs `fault` once `k` trials are final, and audits the store at the end. */
  async function searchThrough(exp: string, k: number, fault: () => Promise<string>): Promise<string> {
    const db = join(dir, `${exp}.db`);
    const search = procs.spawn(exp, [
      ...['search', space, '--name', exp, '--db', db, '--nats', urls, '--seed', '1'],
      ...['--ack-wait', '3000', '--max-in-flight', '4'],
    ]);
    await until(`${k} final trials`, async () => (await finalTrials(db, exp)) >= k, 120_000, search);
    const before = await finalSnapshot(db, exp);
    const what = await fault();
    const code = await exitCode(search, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${procs.outputs()}`);
    });
    const verdict = await audit(
      db,
      exp,
      { trials: TRIALS, epochs: EPOCHS, expect: () => ({ state: 'completed' }) },
      before,
      search.output(),
    );
    assert.equal(code, 0, `search exited ${code} after ${what}:\n${procs.outputs()}`);
    assert.deepEqual(verdict.problems, [], `after ${what}`);
    assert.equal(verdict.trials, TRIALS);
    return search.output();
  }

  it('creates the streams and the lease bucket with 3 replicas and says so', async () => {
    const out = await searchThrough('r3-quiet', 2, async () => 'nothing');
    assert.match(out, /JetStream replicas 3 \(cluster 'hpo' of 3 servers\)/);
    const nc = await connectNats({ servers: cluster.urls });
    try {
      const jsm = await jetstreamManager(nc);
      for (const stream of [names.trialsStream, names.eventsStream, `KV_${ownersBucket()}`]) {
        const info = await jsm.streams.info(stream);
        assert.equal(info.config.num_replicas, 3, stream);
        assert.equal(info.cluster?.replicas?.length, 2, `${stream}: a leader and two followers`);
      }
      // The models bucket: created with the count, and an existing bucket with one copy scaled to it.
      await ensureModelsBucket(jsm, 'r1_models', undefined, 1);
      assert.equal((await jsm.streams.info('OBJ_r1_models')).config.num_replicas, 1);
      await ensureModelsBucket(jsm, 'r1_models', undefined, 3);
      assert.equal((await jsm.streams.info('OBJ_r1_models')).config.num_replicas, 3);
    } finally {
      await nc.close();
    }
  });

  it('refuses --replicas above the cluster size or even, naming the setting (exit 2)', async () => {
    const db = join(dir, 'refused.db');
    const five = await runHpo([
      'search',
      space,
      '--name',
      'r5',
      '--db',
      db,
      '--nats',
      urls,
      '--replicas',
      '5',
    ]);
    assert.equal(five.code, 2, five.stderr);
    assert.match(five.stderr, /--replicas 5: the NATS server is cluster 'hpo' of 3 servers/);
    const single = await startNatsServer();
    try {
      const three = await runHpo([
        'search',
        space,
        '--name',
        'r3one',
        '--db',
        db,
        '--nats',
        single.url,
        '--replicas',
        '3',
      ]);
      assert.equal(three.code, 2, three.stderr);
      assert.match(three.stderr, /--replicas 3: the NATS server is a single server \(no cluster\)/);
    } finally {
      await single.stop();
    }
    const two = await runHpo([
      'search',
      space,
      '--name',
      'r2',
      '--db',
      db,
      '--nats',
      urls,
      '--replicas',
      '2',
    ]);
    assert.equal(two.code, 2, two.stderr);
    assert.match(two.stderr, /--replicas.*expected 1, 3 or 5/);
  });

  it('kill -9 of one node mid-search, then its restart: every trial once, no operator', async () => {
    const victim = cluster.node('n2');
    await searchThrough('kill-node', 4, async () => {
      await victim.kill('SIGKILL');
      await sleep(3000);
      await victim.start();
      return 'kill -9 n2, restarted 3 s later';
    });
  });

  it('a trial submitted while JetStream has no quorum is queued once it is back (retried, not failed)', async () => {
    const nc = await connectNats({ servers: cluster.urls, name: 'quorum test' });
    const transport = new NatsTransport(nc, { streams: { replicas: 3, updateReplicas: true } });
    const rec = new Recorder();
    try {
      await transport.start(rec);
      const [a, b] = [cluster.node('n1'), cluster.node('n3')];
      await Promise.all([a.kill('SIGKILL'), b.kill('SIGKILL')]);
      const submitted = transport.submit({
        v: PROTOCOL_VERSION,
        experiment: 'quorum',
        experiment_id: 'quorum',
        trial_id: 'q1',
        attempt: 1,
        task: 'synthetic',
        params: { epochs: 2, sleep_ms: 10 },
        seed: 1,
      });
      // Down long enough for the publish to fail (no responders, timeouts) several times.
      await sleep(4000);
      await a.start();
      await submitted;
      await b.start();
      await rec.waitForResults(1, 120_000);
      assert.deepEqual(
        rec.results.map((r) => [r.trial_id, r.state]),
        [['q1', 'completed']],
      );
    } finally {
      await transport.close();
    }
  });

  it('deploy/nats/nats-cluster.conf forms a cluster with the roles of nats-server.conf', async () => {
    const conf = readFileSync(join(DEPLOY_NATS, 'nats-cluster.conf'), 'utf8');
    const env = {
      HPO_NATS_ORCHESTRATOR_PASSWORD: 'orch-pw',
      HPO_NATS_WORKER_PASSWORD: 'worker-pw',
      HPO_NATS_VIEWER_PASSWORD: 'viewer-pw',
    };
    // The example's host names, ports and store on loopback: three nodes on one machine.
    const deployed = await startNatsCluster({
      files: { 'nats-server.conf': readFileSync(join(DEPLOY_NATS, 'nats-server.conf'), 'utf8') },
      env,
      configFor: (node, all) =>
        all
          .reduce(
            (text, n, i) =>
              text.replace(`nats-route://nats-${i + 1}:6222`, `nats-route://127.0.0.1:${n.routePort}`),
            conf,
          )
          .replace('$HPO_NATS_SERVER_NAME', node.name)
          .replace('listen: 0.0.0.0:4222', `listen: 127.0.0.1:${node.port}`)
          .replace(/^http: .*$/m, '')
          .replace('store_dir: /data', `store_dir: ${JSON.stringify(node.storeDir)}`)
          .replace('listen: 0.0.0.0:6222', `listen: 127.0.0.1:${node.routePort}`),
    });
    const login = (user: string, pass: string) =>
      connectNats({ servers: deployed.urls, user, pass, name: `deploy conf ${user}` });
    const orch = await login('orchestrator', 'orch-pw');
    let scaled: StreamInfo | undefined;
    const worker = await login('worker', 'worker-pw');
    try {
      assert.equal(orch.info?.cluster, 'hpo');
      assert.equal(orch.info?.connect_urls?.length, 3);
      const jsm = await jetstreamManager(orch);
      // Created with one copy (an older hpo, or a worker's choice), then scaled by the orchestrator.
      await ensureStreams(jsm, names, { replicas: 1 });
      assert.equal((await jsm.streams.info(names.trialsStream)).config.num_replicas, 1);
      await ensureStreams(jsm, names, { replicas: 3 });
      assert.equal(
        (await jsm.streams.info(names.trialsStream)).config.num_replicas,
        1,
        'a worker never scales',
      );
      await ensureStreams(jsm, names, { replicas: 3, updateReplicas: true });
      const info = await jsm.streams.info(names.trialsStream);
      assert.equal(info.config.num_replicas, 3);
      assert.equal((await jsm.streams.info(names.eventsStream)).config.num_replicas, 3);
      // The scaled queue has a leader and two followers (within a deadline: the peers are added).
      await until(
        'the scaled trial queue to have a leader and 2 current followers',
        () => {
          void jsm.streams.info(names.trialsStream).then(
            (i) => (scaled = i),
            () => undefined,
          );
          return (
            scaled?.cluster?.leader !== undefined &&
            scaled.cluster.replicas?.filter((r) => r.current).length === 2
          );
        },
        30_000,
      );
      // A worker still may not create or change streams.
      await assert.rejects(
        (await jetstreamManager(worker, { checkAPI: false })).streams.add({
          name: 'NOPE',
          subjects: ['nope.>'],
        }),
      );
    } finally {
      await orch.close();
      await worker.close();
      await deployed.stop();
    }
  });

  it('kill -9 of the node leading the trial queue: every trial once, no operator', async () => {
    let leader = '';
    await searchThrough('kill-leader', 4, async () => {
      leader = await streamLeader(cluster.urls, names.trialsStream);
      await cluster.node(leader).kill('SIGKILL');
      return `kill -9 ${leader} (leader of ${names.trialsStream})`;
    });
    const now = await streamLeader(cluster.urls, names.trialsStream);
    assert.notEqual(now, leader, 'another node leads the trial queue');
  });
});
