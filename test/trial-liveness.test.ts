/**
 * Issue 15 item 6, orchestrator side, on real processes (nats-server, `hpo worker`, `hpo search --nats`):
 * - a trial whose message a client acked away without running it (an old worker, a forged ack) is
 *   dispatched again as a new attempt after --trial-timeout, and ends failed after 3 such timeouts,
 *   while a trial whose epochs last longer than the timeout is never timed out;
 * - a trial dispatched but not started by a worker is `queued` (status, HTTP API, metrics), then
 *   `running` once a worker starts it;
 * - events are not acked while the store cannot write (a real SQLite file under a file-size limit,
 *   RLIMIT_FSIZE set on the running search with prlimit): results that arrive meanwhile are recorded
 *   once the limit is lifted;
 * - --trial-timeout is validated (exit 2).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { freePort } from '../bench/nats-server.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { type NatsConnection, connectNats } from '../worker/nats/index.js';
import { runHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { exitOf, type Proc, spawnHpo, until } from './helpers/proc.js';
import { busNames, taskRoute } from '../shared/protocol/bus.js';
import { workerArgs } from './helpers/spawn-worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function grid(values: number[], epochs: number, sleepMs: number): string {
  return `method: grid\ntask: synthetic\nmetric: {name: val_acc, goal: maximize}\nparameters:\n  a: {values: [${values.join(', ')}]}\n  epochs: {value: ${epochs}}\n  sleep_ms: {value: ${sleepMs}}\n`;
}

/** The trials of an experiment as [trial_id, state, attempt], read from the store file. */
async function trialsOf(db: string, name: string): Promise<[string, string, number][]> {
  const store = SqliteStore.open(db, { readonly: true });
  try {
    return (await store.listTrials(name)).map((t) => [t.trial_id, t.state, t.attempt]);
  } finally {
    await store.close();
  }
}

/** Pulls one trial message from the workers' consumer and acks it without running it (an old worker). */
async function eatOneTrial(nc: NatsConnection): Promise<string | null> {
  const consumer = await jetstream(nc).consumers.get(
    'HPO_TRIALS',
    busNames().workersConsumer(taskRoute('synthetic')),
  );
  const msg = await consumer.next({ expires: 1000 });
  if (!msg) return null;
  await msg.ackAck();
  return (JSON.parse(new TextDecoder().decode(msg.data)) as { trial_id: string }).trial_id;
}

describe('trial liveness: deadline, queued vs running, store failures (real nats-server and hpo processes)', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  let dir: string;
  let procs: Proc[] = [];
  let client: NatsConnection;
  const hpo = (args: string[]) => {
    const p = spawnHpo(args);
    procs.push(p);
    return p;
  };
  const worker = (name: string, concurrency = 2) => hpo(workerArgs(server.url, name, { concurrency }));

  beforeEach(async () => {
    server = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'hpo-liveness-'));
    client = await connectNats({ servers: [server.url], name: 'test client' });
  });
  afterEach(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    procs = [];
    await client.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('--trial-timeout: bad values exit 2 with a message', async () => {
    const space = join(dir, 'space.yaml');
    await writeFile(space, grid([1], 1, 0));
    for (const bad of ['0', 'abc', '0.5', '-3', '1x']) {
      const r = await runHpo(['search', space, '--db', join(dir, 'x.db'), '--trial-timeout', bad]);
      assert.equal(r.code, 2, `--trial-timeout ${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--trial-timeout.*expected a duration of at least 1 s/);
    }
  });

  it('queued until a worker starts it; a trial acked away is dispatched again (attempt 2); a long epoch is not timed out', async () => {
    const space = join(dir, 'space.yaml');
    // Epochs of 2.5 s, longer than the 2 s trial timeout.
    await writeFile(space, grid([1, 2], 2, 2500));
    const db = join(dir, 'hpo.db');
    const metricsPort = await freePort();
    const httpPort = await freePort();
    const search = hpo([
      'search',
      space,
      '--name',
      'live',
      '--db',
      db,
      '--nats',
      server.url,
      '--trial-timeout',
      '2',
      '--metrics-port',
      String(metricsPort),
      '--http-port',
      String(httpPort),
    ]);
    // No worker yet: both trials are queued, not running, in the store, the API and the metrics.
    await until(
      'both trials queued',
      async () => {
        try {
          return (await trialsOf(db, 'live')).filter((t) => t[1] === 'queued').length === 2;
        } catch {
          return false;
        }
      },
      60_000,
      search,
    );
    const status = await runHpo(['status', 'live', '--db', db]);
    assert.match(status.stdout, /0 running, 2 queued, 0 pending/, status.stdout);
    const api = (await (await fetch(`http://127.0.0.1:${httpPort}/api/status`)).json()) as {
      trials: Record<string, number>;
    };
    assert.equal(api.trials.queued, 2, JSON.stringify(api));
    assert.equal(api.trials.running, 0, JSON.stringify(api));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^hpo_trials\{experiment="live",state="queued"\} 2$/m);
    assert.match(metrics, /^hpo_trials\{experiment="live",state="running"\} 0$/m);

    // An old worker takes one trial and acks it away without running it: nobody will ever report it.
    const eaten = await eatOneTrial(client);
    assert.ok(eaten, 'a trial was in the queue');
    const other = eaten === 't0000' ? 't0001' : 't0000';
    const w = worker('w1');
    await until(
      'the other trial running',
      async () => (await trialsOf(db, 'live')).some((t) => t[0] === other && t[1] === 'running'),
      60_000,
      search,
    );
    const running = await runHpo(['status', 'live', '--db', db]);
    assert.match(running.stdout, /[12] running/, running.stdout);

    assert.equal(
      await exitOf(search, 120_000).catch((e: Error) => `${e.message}\n--- worker:\n${w.out()}`),
      0,
      search.out(),
    );
    const store = SqliteStore.open(db, { readonly: true });
    try {
      const byId = new Map((await store.listTrials('live')).map((t) => [t.trial_id, t]));
      // The eaten trial ran again as attempt 2 (a new token); the long-epoch trial was never timed out.
      assert.deepEqual(
        [eaten, other].map((id) => [id, byId.get(id)!.state, byId.get(id)!.attempt, byId.get(id)!.worker]),
        [
          [eaten, 'completed', 2, 'w1'],
          [other, 'completed', 1, 'w1'],
        ],
      );
      for (const id of [eaten, other]) assert.equal((await store.listEpochs('live', id)).length, 2);
    } finally {
      await store.close();
    }
    assert.match(search.out(), /lost in flight/);
  });

  it('a trial acked away on every dispatch ends failed after 3 timeouts; the search ends', async () => {
    const space = join(dir, 'space.yaml');
    await writeFile(space, grid([1], 1, 0));
    const db = join(dir, 'hpo.db');
    const search = hpo([
      'search',
      space,
      '--name',
      'eaten',
      '--db',
      db,
      '--nats',
      server.url,
      '--trial-timeout',
      '1',
    ]);
    const eatenIds: string[] = [];
    let eating = true;
    const eater = (async () => {
      while (eating) {
        try {
          const id = await eatOneTrial(client);
          if (id) eatenIds.push(id);
        } catch {
          await sleep(200); // the queue is not there yet
        }
      }
    })();
    try {
      assert.equal(await exitOf(search, 120_000), 0, search.out());
    } finally {
      eating = false;
      await eater;
    }
    const store = SqliteStore.open(db, { readonly: true });
    try {
      const [t] = await store.listTrials('eaten');
      assert.deepEqual([t.trial_id, t.state, t.attempt], ['t0000', 'failed', 3]);
      assert.match(t.error ?? '', /no sign of life for 1 s \(trial timeout\).*gave up after 3 timeout/);
      assert.equal((await store.getExperiment('eaten'))!.status, 'completed');
    } finally {
      await store.close();
    }
    assert.deepEqual(eatenIds, ['t0000', 't0000', 't0000']);
  });

  it('results that arrive while the store cannot write are kept on the bus and recorded once it can', async () => {
    const space = join(dir, 'space.yaml');
    await writeFile(space, grid([1, 2], 2, 1500));
    const db = join(dir, 'hpo.db');
    const search = hpo(['search', space, '--name', 'full', '--db', db, '--nats', server.url]);
    const w = worker('w1');
    await until(
      'both trials running',
      async () => {
        try {
          return (await trialsOf(db, 'full')).filter((t) => t[1] === 'running').length === 2;
        } catch {
          return false;
        }
      },
      60_000,
      search,
    );
    const pid = String(search.child.pid);
    const store = SqliteStore.open(db, { readonly: true });
    const id = (await store.getExperiment('full'))!.bus_id;
    // Every write past 0 bytes of a file now fails with EFBIG (SQLite: disk full), as on a full disk.
    execFileSync('prlimit', ['--pid', pid, '--fsize=0:unlimited']);
    let lifted = false;
    try {
      const jsm = await jetstreamManager(client);
      await until(
        'both results in the events stream',
        async () => {
          const info = await jsm.streams.info('HPO_EVENTS', { subjects_filter: `hpo.events.${id}.result` });
          return (info.state.subjects?.[`hpo.events.${id}.result`] ?? 0) >= 2;
        },
        60_000,
        w,
      );
      // Well past the 5 deliveries (1 s apart) after which an event used to be dropped.
      await sleep(9000);
      assert.deepEqual(
        (await trialsOf(db, 'full')).map((t) => t[1]),
        ['running', 'running'],
        'nothing could be recorded meanwhile',
      );
      assert.equal(search.child.exitCode, null, search.out());
      execFileSync('prlimit', ['--pid', pid, '--fsize=unlimited']);
      lifted = true;
    } finally {
      if (!lifted) execFileSync('prlimit', ['--pid', pid, '--fsize=unlimited']);
    }
    // Recording resumes: the kept results (and epochs) are applied; no trial is run again.
    assert.equal(await exitOf(search, 60_000), 0, search.out());
    try {
      const trials = await store.listTrials('full');
      assert.deepEqual(
        trials.map((t) => [t.trial_id, t.state, t.attempt, t.worker]),
        [
          ['t0000', 'completed', 1, 'w1'],
          ['t0001', 'completed', 1, 'w1'],
        ],
      );
      for (const t of trials) assert.equal((await store.listEpochs('full', t.trial_id)).length, 2);
    } finally {
      await store.close();
    }
    assert.match(search.out(), /event handler failed/);
  });
});
