/**
 * Trust, round 2 (issue 24 items 1 and 2), on a real nats-server running deploy/nats/nats-server.conf
 * with its roles, real `hpo search --nats` / `hpo worker` / `hpo resume` processes and hostile clients
 * logged in as a role:
 * - a reply subject is where the orchestrator publishes its answer, with its rights: a viewer's status
 *   question with reply `$JS.API.STREAM.PURGE.HPO_TRIALS`, `$KV.hpo_owners.<id>` or `hpo.trials.<id>`
 *   and a worker's decision request with reply `hpo.trials.<id>` change nothing (counted), and the
 *   server itself refuses the orchestrator's answering user any subject but an inbox;
 * - an owner lease overwritten with something that is no lease stops nothing, and `hpo resume` after the
 *   driver died takes over without --force;
 * - nobody reads another role's inboxes (`_INBOX.>` is refused), and with one user per worker
 *   (deploy/nats/worker-users.sh) no worker reads the trials, with their tokens, another worker pulls.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { freePort } from '../bench/nats-server.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { busNames, taskRoute } from '../shared/protocol/bus.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../shared/protocol/index.js';
import { encodeMessage } from '../shared/protocol/validate.js';
import { ensureStreams, type NatsConnection, connectNats } from '../shared/nats/index.js';
import { runHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import {
  ROLES_CONFIG,
  ROLE_PASSWORDS,
  type Role,
  asRole,
  permissionError,
  withWorkerUsers,
} from './helpers/nats-roles.js';
import { exitOf, type Proc, spawnHpo, until } from './helpers/proc.js';
import { workerArgs } from './helpers/spawn-worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const names = busNames();

function grid(n: number, epochs: number, sleepMs: number): string {
  const values = Array.from({ length: n }, (_, i) => i + 1).join(', ');
  return `method: grid\ntask: synthetic\nmetric: {name: val_acc, goal: maximize}\nparameters:\n  a: {values: [${values}]}\n  epochs: {value: ${epochs}}\n  sleep_ms: {value: ${sleepMs}}\n`;
}

async function queued(jsm: Awaited<ReturnType<typeof jetstreamManager>>): Promise<number> {
  return jsm.streams.info(names.trialsStream).then(
    (i) => i.state.messages,
    () => -1,
  );
}

async function invalidCount(port: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const m = /^hpo_invalid_messages_total(?:\{[^}]*\})? (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The experiment's bus id and the owner lease on the bus, read as the orchestrator user. */
async function busId(db: string, name: string): Promise<string> {
  const store = SqliteStore.open(db, { readonly: true });
  try {
    return (await store.getExperiment(name))!.bus_id;
  } finally {
    await store.close();
  }
}

async function busLease(
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  id: string,
): Promise<Record<string, unknown> | null> {
  const m = await jsm.streams
    .getMessage('KV_hpo_owners', { last_by_subj: `$KV.hpo_owners.${id}` })
    .catch(() => null);
  if (!m || m.data.length === 0) return null;
  return JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>;
}

/** What a subscription got: messages (their text) and errors (a refused subscription). */
interface Sniffed {
  texts: string[];
  errors: string[];
}

function sniff(nc: NatsConnection, subject: string): Sniffed {
  const got: Sniffed = { texts: [], errors: [] };
  nc.subscribe(subject, {
    callback: (err, m) => {
      if (err) got.errors.push(err.message);
      else got.texts.push(new TextDecoder().decode(m.data));
    },
  });
  return got;
}

/** Trial messages (trial id -> token) among what a sniffer read. */
function trialsIn(texts: string[]): Map<string, string> {
  const seen = new Map<string, string>();
  for (const t of texts) {
    try {
      const v = JSON.parse(t) as Partial<TrialSpec>;
      if (typeof v.trial_id === 'string' && typeof v.token === 'string') seen.set(v.trial_id, v.token);
    } catch {
      // not JSON (e.g. an empty status message)
    }
  }
  return seen;
}

async function trialWorkers(db: string, name: string): Promise<Map<string, string | undefined>> {
  const store = SqliteStore.open(db, { readonly: true });
  try {
    return new Map((await store.listTrials(name)).map((t) => [t.trial_id, t.worker ?? undefined]));
  } finally {
    await store.close();
  }
}

describe('trust: replies and inboxes under the shipped NATS roles (real server, real hpo processes)', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  let dir: string;
  let procs: Proc[] = [];
  let conns: NatsConnection[] = [];
  let env: Record<string, string> = ROLE_PASSWORDS;

  const hpo = (args: string[], as: NodeJS.ProcessEnv) => {
    const p = spawnHpo(args, as);
    procs.push(p);
    return p;
  };
  const login = async (user: string, pass: string) => {
    const nc = await connectNats({ servers: [server.url], user, pass, name: `hostile ${user}` });
    conns.push(nc);
    return nc;
  };
  const connect = (role: Role) => login(role, asRole(role).HPO_NATS_PASS);
  const search = (space: string, name: string, db: string, extra: string[] = []) =>
    hpo(
      ['search', space, '--name', name, '--db', db, '--nats', server.url, ...extra],
      asRole('orchestrator'),
    );
  const worker = (name: string, as: NodeJS.ProcessEnv = asRole('worker')) =>
    hpo(workerArgs(server.url, name, { concurrency: 1 }), as);
  const space = async (n: number, epochs: number, sleepMs: number) => {
    const file = join(dir, `space-${n}-${epochs}.yaml`);
    await writeFile(file, grid(n, epochs, sleepMs));
    return file;
  };

  const startServer = async (config?: string) => {
    server = config
      ? await startNatsServer({ config, env })
      : await startNatsServer({ configFile: ROLES_CONFIG, env });
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-trust-replies-'));
  });
  afterEach(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    procs = [];
    for (const nc of conns) if (!nc.isClosed()) await nc.close().catch(() => undefined);
    conns = [];
    await server?.stop();
    env = ROLE_PASSWORDS;
    await rm(dir, { recursive: true, force: true });
  });

  it('a viewer status question with reply $JS.API.STREAM.PURGE.HPO_TRIALS, $KV.hpo_owners.<id> or hpo.trials.<id>: the queue keeps its trials, the lease stays; counted', async () => {
    await startServer();
    const db = join(dir, 'v.db');
    const metricsPort = await freePort();
    const s = search(await space(6, 2, 300), 'victim', db, ['--metrics-port', String(metricsPort)]);
    const ojsm = await jetstreamManager(await connect('orchestrator'));
    await until('6 trials queued', async () => (await queued(ojsm)) === 6, 120_000, s);
    const id = await busId(db, 'victim');
    const viewer = await connect('viewer');
    const question = encodeMessage({ kind: 'status' });
    for (const reply of [
      '$JS.API.STREAM.PURGE.HPO_TRIALS',
      `$KV.hpo_owners.${id}`,
      names.trialsSubject(id, taskRoute('synthetic')),
    ]) {
      viewer.publish(names.querySubject('victim'), question, { reply });
    }
    await viewer.flush();
    await until(
      'the 3 questions counted (or obeyed)',
      async () =>
        (await invalidCount(metricsPort)) >= 3 || (await queued(ojsm)) !== 6 || s.child.exitCode !== null,
      30_000,
    );
    assert.equal(await queued(ojsm), 6, 'the trial queue lost or gained messages');
    assert.equal(s.child.exitCode, null, s.out());
    const lease = await busLease(ojsm, id);
    assert.equal(lease?.pid, s.child.pid, `the owner lease is now ${JSON.stringify(lease)}`);
    // An honest status question (from the viewer's inbox) is answered.
    const status = await runHpo(['status', 'victim', '--nats', server.url], asRole('viewer'));
    assert.match(status.stdout, /^victim: running/m, status.stderr);
    const w = worker('w1');
    assert.equal(await exitOf(s, 180_000), 0, `${s.out()}\n--- worker:\n${w.out()}`);
    const states = [...(await trialWorkers(db, 'victim')).values()];
    assert.deepEqual(states, Array(6).fill('w1'));
  });

  it('a worker decision request (its own valid token) with reply hpo.trials.<id> stores nothing in the queue; from its inbox it is answered', async () => {
    await startServer();
    const db = join(dir, 'd.db');
    const metricsPort = await freePort();
    const s = search(await space(3, 3, 200), 'decide', db, ['--metrics-port', String(metricsPort)]);
    const ojsm = await jetstreamManager(await connect('orchestrator'));
    await until('3 trials queued', async () => (await queued(ojsm)) === 3, 120_000, s);
    const id = await busId(db, 'decide');
    const hostile = await connect('worker');
    const consumer = await jetstream(hostile).consumers.get(
      names.trialsStream,
      names.workersConsumer(taskRoute('synthetic')),
    );
    const batch = await consumer.fetch({ max_messages: 1, expires: 5000 });
    let held;
    for await (const m of batch) held = m;
    assert.ok(held, 'the hostile worker pulled no trial');
    const spec = held.json<TrialSpec>();
    const request = encodeMessage({
      v: PROTOCOL_VERSION,
      experiment: spec.experiment,
      experiment_id: id,
      token: spec.token,
      trial_id: spec.trial_id,
      attempt: spec.attempt,
      epoch: 1,
      metrics: { val_acc: 0.5 },
      worker: 'evil',
    });
    hostile.publish(names.decideSubject(id), request, {
      reply: names.trialsSubject(id, taskRoute('synthetic')),
    });
    await hostile.flush();
    await until(
      'the request counted (or obeyed)',
      async () => (await invalidCount(metricsPort)) >= 1 || (await queued(ojsm)) !== 3,
      30_000,
      s,
    );
    await sleep(500);
    assert.equal(await queued(ojsm), 3, 'the answer was stored in the trial queue');
    const answer = await hostile.request(names.decideSubject(id), request, { timeout: 5000 });
    assert.deepEqual(answer.json(), { v: PROTOCOL_VERSION, decision: 'continue' });
    held.nak();
    const w = worker('w1');
    assert.equal(await exitOf(s, 180_000), 0, `${s.out()}\n--- worker:\n${w.out()}`);
  });

  it('the server refuses the orchestrator answering user (orchestrator-replies) any subject but an inbox, even when a responder obeys the reply subject', async () => {
    await startServer();
    const orch = await connect('orchestrator');
    const ojsm = await jetstreamManager(orch);
    await ensureStreams(ojsm, names);
    await jetstream(orch).publish(
      names.trialsSubject('x', taskRoute('synthetic')),
      encodeMessage({ v: PROTOCOL_VERSION }),
    );
    const replies = await login('orchestrator-replies', asRole('orchestrator').HPO_NATS_PASS);
    for (const subject of [
      '$JS.API.STREAM.PURGE.HPO_TRIALS',
      '$KV.hpo_owners.x',
      names.trialsSubject('x', taskRoute('synthetic')),
    ]) {
      const denied = permissionError(replies);
      replies.publish(subject, encodeMessage({ kind: 'status' }));
      const error = (await denied) ?? 'no permission error';
      assert.match(error, /"operation":"publish".*PermissionViolationError/, `${subject}: ${error}`);
      assert.ok(error.includes(JSON.stringify(subject)), error);
    }
    // A naive responder that answers on whatever reply subject it is handed.
    replies.subscribe(names.querySubject('naive'), {
      callback: (err, m) => {
        if (!err && m.reply) replies.publish(m.reply, encodeMessage({ answered: true }));
      },
    });
    await replies.flush();
    const viewer = await connect('viewer');
    const denied = permissionError(replies);
    viewer.publish(names.querySubject('naive'), encodeMessage({}), {
      reply: '$JS.API.STREAM.PURGE.HPO_TRIALS',
    });
    assert.match((await denied) ?? 'no permission error', /PURGE.*PermissionViolationError/);
    assert.equal(await queued(ojsm), 1, 'the purge went through');
    const answer = await viewer.request(names.querySubject('naive'), encodeMessage({}), { timeout: 3000 });
    assert.deepEqual(answer.json(), { answered: true });
  });

  /** A search as orchestrator, its 4 trials queued (no worker yet), and a lease record that is no lease. */
  const leasedSearch = async () => {
    const db = join(dir, 'l.db');
    const s = search(await space(4, 3, 400), 'leased', db);
    const orch = await connect('orchestrator');
    const ojsm = await jetstreamManager(orch);
    await until('4 trials queued', async () => (await queued(ojsm)) === 4, 120_000, s);
    const id = await busId(db, 'leased');
    // What a status answer on reply $KV.hpo_owners.<id> once wrote there (publishing to the bucket is
    // the orchestrator user's right only).
    const overwrite = () =>
      jetstream(orch).publish(
        `$KV.hpo_owners.${id}`,
        encodeMessage({ name: 'leased', status: 'running', trials: { total: 4 } }),
      );
    return { db, s, ojsm, id, overwrite };
  };

  it('an owner lease on the bus overwritten with something else does not stop the search: it writes its lease again', async () => {
    await startServer();
    const { db, s, ojsm, id, overwrite } = await leasedSearch();
    await overwrite();
    await until(
      'the driver to write its lease again',
      async () => (await busLease(ojsm, id))?.pid === s.child.pid,
      20_000,
      s,
    );
    const w = worker('w1');
    assert.equal(await exitOf(s, 180_000), 0, `${s.out()}\n--- worker:\n${w.out()}`);
    assert.deepEqual([...(await trialWorkers(db, 'leased')).values()], ['w1', 'w1', 'w1', 'w1']);
  });

  it('after a driver died leaving such a lease, hpo resume takes over without --force (no RangeError)', async () => {
    await startServer();
    const { db, s, overwrite } = await leasedSearch();
    await overwrite();
    s.child.kill('SIGKILL'); // the experiment stays `running`, its bus lease no lease at all
    await s.exit;
    const w = worker('w1');
    const resumed = hpo(['resume', 'leased', '--db', db, '--nats', server.url], asRole('orchestrator'));
    assert.equal(await exitOf(resumed, 180_000), 0, `${resumed.out()}\n--- worker:\n${w.out()}`);
    assert.doesNotMatch(resumed.out(), /RangeError|--force/);
    const store = SqliteStore.open(db, { readonly: true });
    try {
      assert.equal((await store.getExperiment('leased'))!.status, 'completed');
      assert.deepEqual(
        (await store.listTrials('leased')).map((t) => t.state),
        ['completed', 'completed', 'completed', 'completed'],
      );
    } finally {
      await store.close();
    }
  });

  it('a viewer or a worker subscribing to _INBOX.> (or another role inbox) is refused and reads no trial, no token', async () => {
    await startServer();
    const viewer = await connect('viewer');
    const snoop = await connect('worker');
    const sniffers = [
      sniff(viewer, '_INBOX.>'),
      sniff(viewer, '_INBOX.worker.>'),
      sniff(viewer, '_INBOX.orchestrator.>'),
      sniff(snoop, '_INBOX.>'),
      sniff(snoop, '_INBOX.orchestrator.>'),
      sniff(snoop, '_INBOX.viewer.>'),
    ];
    await viewer.flush().catch(() => undefined);
    await snoop.flush().catch(() => undefined);
    const db = join(dir, 'i.db');
    const w = worker('w1');
    const s = search(await space(3, 2, 200), 'inboxes', db);
    assert.equal(await exitOf(s, 180_000), 0, `${s.out()}\n--- worker:\n${w.out()}`);
    const status = await runHpo(['status', 'inboxes', '--db', db]);
    assert.match(status.stdout, /3 total/, status.stdout);
    for (const [i, got] of sniffers.entries()) {
      assert.equal(got.texts.length, 0, `sniffer ${i} read: ${got.texts.slice(0, 3).join('\n')}`);
      assert.match(got.errors.join('\n'), /permissions violation/i, `sniffer ${i} was not refused`);
    }
  });

  it('with one user per worker (worker-users.sh), a worker reads none of the trials another pulls; the shared user reads the shared inbox', async () => {
    const users = withWorkerUsers(['w1', 'w2']);
    env = users.env;
    await startServer(users.config);
    const w2 = await login('worker-w2', users.asWorker('w2').HPO_NATS_PASS);
    const shared = await connect('worker');
    const own = [sniff(w2, '_INBOX.worker-w1.>'), sniff(w2, '_INBOX.>'), sniff(w2, '_INBOX.worker.>')];
    const sharedInbox = sniff(shared, '_INBOX.worker.>');
    const sharedOther = sniff(shared, '_INBOX.worker-w1.>');
    await w2.flush().catch(() => undefined);
    await shared.flush().catch(() => undefined);
    const db = join(dir, 'p.db');
    const a = worker('wa', users.asWorker('w1'));
    const b = worker('wb');
    const s = search(await space(8, 2, 300), 'perworker', db);
    assert.equal(await exitOf(s, 180_000), 0, `${s.out()}\n--- wa:\n${a.out()}\n--- wb:\n${b.out()}`);
    const ran = await trialWorkers(db, 'perworker');
    const byA = [...ran].filter(([, w]) => w === 'wa').map(([t]) => t);
    const byB = [...ran].filter(([, w]) => w === 'wb').map(([t]) => t);
    assert.ok(byA.length > 0 && byB.length > 0, `both workers ran trials: ${JSON.stringify([...ran])}`);
    for (const got of [...own, sharedOther]) {
      assert.equal(got.texts.length, 0, got.texts.slice(0, 3).join('\n'));
      assert.match(got.errors.join('\n'), /permissions violation/i);
    }
    // The shared user reads what workers logged in as `worker` pull (docs/RELIABILITY.md says so): the
    // sniffing works; it just never sees worker-w1's trials.
    const seen = trialsIn(sharedInbox.texts);
    assert.ok(seen.size > 0, 'the shared-inbox sniffer read no trial');
    for (const t of seen.keys())
      assert.ok(byB.includes(t) && !byA.includes(t), `${t} seen, ran on ${ran.get(t)}`);
  });
});
