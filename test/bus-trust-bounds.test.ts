/**
 * Issue 24 items 6, 7 and 8 (heartbeat), on real processes: nats-server with the shipped roles
 * (deploy/nats/nats-server.conf), `hpo search --nats` as the orchestrator, `hpo worker` as a worker, and a
 * hostile client logged in as a worker.
 * - A poison result (`started_at: 1e300`, with the delivery's real token) is refused at validation; the
 *   trial stays under the trial deadline's watch and runs again; the search ends.
 * - A result the store refuses for good (a real SQLite refusal: a trigger on the running search's file)
 *   is dropped once with its reason logged, not retried forever; the trial runs again; the search ends.
 * - Epochs survive a full disk (RLIMIT_FSIZE 0 on the running search for 25 s): every epoch of every
 *   trial is recorded once space returns, those in events and the last one carried by the result.
 * - A heartbeat with `sent_at: 1e300` does not crash `hpo workers` (it is refused at validation).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { jetstream } from '@nats-io/jetstream';
import { SqliteStore } from '../orchestrator/store/index.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../shared/protocol/index.js';
import { encodeMessage } from '../shared/protocol/validate.js';
import { type NatsConnection, connectNats } from '../worker/nats/index.js';
import { runHpo } from './helpers/cli.js';
import { ROLES_CONFIG, ROLE_PASSWORDS, asRole } from './helpers/nats-roles.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { exitOf, type Proc, spawnHpo, until } from './helpers/proc.js';
import { busNames, taskRoute } from '../shared/protocol/bus.js';
import { workerArgs } from './helpers/spawn-worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function grid(values: number[], epochs: number, sleepMs: number): string {
  return `method: grid\ntask: synthetic\nmetric: {name: val_acc, goal: maximize}\nparameters:\n  a: {values: [${values.join(', ')}]}\n  epochs: {value: ${epochs}}\n  sleep_ms: {value: ${sleepMs}}\n`;
}

/** [trial_id, state, attempt, worker, epochs recorded] of every trial, read from the store file. */
async function trialsOf(
  db: string,
  name: string,
): Promise<[string, string, number, string | null, number][]> {
  const store = SqliteStore.open(db, { readonly: true });
  try {
    const rows: [string, string, number, string | null, number][] = [];
    for (const t of await store.listTrials(name)) {
      rows.push([
        t.trial_id,
        t.state,
        t.attempt,
        t.worker,
        (await store.listEpochs(name, t.trial_id)).length,
      ]);
    }
    return rows;
  } finally {
    await store.close();
  }
}

async function tryTrialsOf(db: string, name: string): Promise<ReturnType<typeof trialsOf>> {
  try {
    return await trialsOf(db, name);
  } catch {
    return []; // not created yet
  }
}

describe('trust, bounds: poison numbers, store refusals, a full disk (real nats-server with roles, real hpo processes)', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  let dir: string;
  let procs: Proc[] = [];
  let hostile: NatsConnection;
  const hpo = (args: string[], role: 'orchestrator' | 'worker' | 'viewer') => {
    const p = spawnHpo(args, asRole(role));
    procs.push(p);
    return p;
  };
  const worker = (name: string, concurrency = 2) =>
    hpo(workerArgs(server.url, name, { concurrency }), 'worker');
  const search = (space: string, name: string, db: string, extra: string[] = []) =>
    hpo(['search', space, '--name', name, '--db', db, '--nats', server.url, ...extra], 'orchestrator');

  beforeEach(async () => {
    server = await startNatsServer({ configFile: ROLES_CONFIG, env: ROLE_PASSWORDS });
    dir = await mkdtemp(join(tmpdir(), 'hpo-bounds-'));
    hostile = await connectNats({ servers: [server.url], ...roleLogin('worker'), name: 'hostile worker' });
  });
  afterEach(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    procs = [];
    await hostile.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a result with started_at 1e300 and the real token is refused; the trial runs again; the search ends', async () => {
    const space = join(dir, 'space.yaml');
    await writeFile(space, grid([1], 1, 0));
    const db = join(dir, 'hpo.db');
    const s = search(space, 'poison', db, ['--trial-timeout', '2']);
    // The hostile worker takes the trial, acks it away (no one else will run this delivery) and sends
    // a result the store cannot hold, with the delivery's own token.
    let spec: TrialSpec | undefined;
    await until(
      'the trial in the queue',
      async () => {
        spec = await takeTrial(hostile).catch(() => undefined);
        return spec !== undefined;
      },
      60_000,
      s,
    );
    const now = Date.now();
    await jetstream(hostile).publish(
      `hpo.events.${spec!.experiment_id}.result`,
      encodeMessage({
        v: PROTOCOL_VERSION,
        experiment: spec!.experiment,
        experiment_id: spec!.experiment_id,
        token: spec!.token,
        trial_id: spec!.trial_id,
        attempt: spec!.attempt,
        state: 'completed',
        metrics: { val_acc: 0.99 },
        epochs: 1,
        worker: 'evil',
        started_at: 1e300,
        ended_at: now,
      }),
    );
    worker('w1');
    assert.equal(await exitOf(s, 90_000), 0, s.out());
    assert.deepEqual(await trialsOf(db, 'poison'), [['t0000', 'completed', 2, 'w1', 1]]);
    assert.match(s.out(), /started_at: expected a time in integer epoch ms between/);
  });

  it('a result the store refuses for good is dropped once with its reason; the trial runs again; the search ends', async () => {
    const space = join(dir, 'space.yaml');
    await writeFile(space, grid([1], 1, 3000));
    const db = join(dir, 'hpo.db');
    const s = search(space, 'refused', db, ['--trial-timeout', '2']);
    await until('the trial queued', async () => (await tryTrialsOf(db, 'refused')).length === 1, 60_000, s);
    // A real SQLite refusal (not a full disk) of the first attempt's result.
    const raw = new Database(db, { timeout: 10_000 });
    raw.exec(`CREATE TRIGGER refuse_first BEFORE UPDATE ON trials
      WHEN OLD.trial_id = 't0000' AND OLD.attempt = 1 AND NEW.state = 'completed'
      BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    raw.close();
    worker('w1');
    assert.equal(await exitOf(s, 120_000), 0, s.out());
    const out = s.out();
    assert.match(out, /refused by the test \(the event is dropped\)/);
    assert.equal(out.split('refused by the test').length - 1, 1, `dropped once, not retried:\n${out}`);
    assert.deepEqual(await trialsOf(db, 'refused'), [['t0000', 'completed', 2, 'w1', 1]]);
  });

  it('every epoch survives 25 s of a full disk (file size limit 0) and is recorded once space returns', async () => {
    const space = join(dir, 'space.yaml');
    // 4 trials of 4 epochs of 1 s, all at once: epochs 1-3 travel as events, epoch 4 in the result.
    await writeFile(space, grid([1, 2, 3, 4], 4, 1000));
    const db = join(dir, 'hpo.db');
    const s = search(space, 'full', db);
    worker('w1', 4);
    await until(
      'the four trials running',
      async () => (await tryTrialsOf(db, 'full')).filter((t) => t[1] === 'running').length === 4,
      60_000,
      s,
    );
    const pid = String(s.child.pid);
    execFileSync('prlimit', ['--pid', pid, '--fsize=0:unlimited']);
    let lifted = false;
    try {
      await sleep(25_000);
      assert.equal(s.child.exitCode, null, s.out());
      execFileSync('prlimit', ['--pid', pid, '--fsize=unlimited']);
      lifted = true;
    } finally {
      if (!lifted) execFileSync('prlimit', ['--pid', pid, '--fsize=unlimited']);
    }
    assert.equal(await exitOf(s, 120_000), 0, s.out());
    assert.deepEqual(
      await trialsOf(db, 'full'),
      ['t0000', 't0001', 't0002', 't0003'].map((t) => [t, 'completed', 1, 'w1', 4]),
    );
    assert.match(s.out(), /event handler failed/, 'the store could not write meanwhile');
  });

  it('a heartbeat with sent_at 1e300 does not crash hpo workers; the real worker is listed', async () => {
    // A worker heartbeats once the queue exists: a search creates it.
    const space = join(dir, 'space.yaml');
    await writeFile(space, grid([1], 1, 0));
    const s = search(space, 'hb', join(dir, 'hpo.db'));
    worker('w1');
    assert.equal(await exitOf(s, 90_000), 0, s.out());
    const poison = () =>
      hostile.publish(
        'hpo.workers.heartbeat',
        encodeMessage({
          v: PROTOCOL_VERSION,
          name: 'evil',
          slots: 1,
          busy: 0,
          trials_done: 0,
          started_at: 1e300,
          sent_at: 1e300,
          draining: false,
          invalid_messages: 0,
        }),
      );
    // Answers every ping, as a worker does.
    hostile.subscribe('hpo.workers.ping', { callback: () => poison() });
    await hostile.flush();
    let r = await runHpo(['workers', '--nats', server.url, '--wait', '1500'], asRole('viewer'));
    for (let i = 0; i < 20 && !r.stdout.includes('w1'); i++) {
      r = await runHpo(['workers', '--nats', server.url, '--wait', '1500'], asRole('viewer'));
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1 worker\(s\)$/m, r.stdout);
    assert.match(r.stdout, /w1/);
    assert.doesNotMatch(r.stdout, /evil/);
  });
});

function roleLogin(role: 'worker'): { user: string; pass: string } {
  const env = asRole(role);
  return { user: env.HPO_NATS_USER, pass: env.HPO_NATS_PASS };
}

/** Pulls one trial message from the workers' consumer, acks it without running it, returns its spec. */
async function takeTrial(nc: NatsConnection): Promise<TrialSpec | undefined> {
  const consumer = await jetstream(nc).consumers.get(
    'HPO_TRIALS',
    busNames().workersConsumer(taskRoute('synthetic')),
  );
  const msg = await consumer.next({ expires: 1000 });
  if (!msg) return undefined;
  await msg.ackAck();
  return JSON.parse(new TextDecoder().decode(msg.data)) as TrialSpec;
}
