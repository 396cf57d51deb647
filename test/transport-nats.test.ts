/**
 * The NATS transport against a real nats-server (JetStream): the transport contract with two workers,
 * then what only a distributed transport has to survive: a worker killed mid-trial, an orchestrator
 * down while results arrive, a trial that uses up its deliveries, garbage on every subject, refusals,
 * drain, a server restart.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { NatsTransport, type NatsTransportOptions } from '../orchestrator/transport/nats/index.js';
import { PROTOCOL_VERSION, type TrialParams, type TrialSpec } from '../shared/protocol/index.js';
import { taskRoute } from '../shared/protocol/bus.js';
import {
  type NatsConnection,
  NatsWorker,
  type NatsWorkerOptions,
  connectNats,
} from '../worker/nats/index.js';
import { listWorkers } from '../orchestrator/api/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { Recorder, transportContract } from './contracts/transport.contract.js';
import { skipUnlessNativeBackend } from './helpers/native-backend.js';
import type { BackendChoice } from '../worker/backends/index.js';
import { contractUserTasks } from './contracts/user-tasks.fixture.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { createLogger } from '../shared/log/index.js';
import { RetryLaterError } from '../shared/errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Log lines of every component, printed only if a test fails. */
let logs: string[] = [];
const logger = createLogger({
  level: 'trace',
  pretty: false,
  destination: { write: (l) => logs.push(l.trimEnd()) },
});

async function worker(
  url: string,
  name: string,
  options: NatsWorkerOptions = {},
  backend: BackendChoice = 'cpu',
): Promise<NatsWorker> {
  const nc = await connectNats({ servers: [url], name });
  const tasks = contractUserTasks().offers;
  const pool = new TrialPool({ threads: 1, backend, name, tasks });
  const w = new NatsWorker(nc, pool, {
    accept: (spec) => tasks.refusal(spec),
    offered: tasks.offered(),
    name,
    backend,
    logger,
    fetchExpiresMs: 1000,
    ...options,
  });
  await w.start();
  return w;
}

function natsContractFixture(backend: BackendChoice) {
  return async () => {
    const server = await startNatsServer();
    const transport = new NatsTransport(await connectNats({ servers: [server.url] }), {
      maxInFlight: 4,
      logger,
    });
    const workers = await Promise.all(['w1', 'w2'].map((name) => worker(server.url, name, {}, backend)));
    return {
      transport,
      waitingForWorkers: () => transport.waitingForWorkers(),
      cleanup: async () => {
        await transport.close();
        await Promise.all(workers.map((w) => w.close()));
        await server.stop();
      },
    };
  };
}

transportContract('NATS (real nats-server, 2 workers)', natsContractFixture('cpu'));
transportContract(
  'NATS (real nats-server, 2 workers on backend tensorflow)',
  natsContractFixture('tensorflow'),
  {
    before: (ctx) => skipUnlessNativeBackend(ctx),
  },
);

/** The built-in synthetic task's route on the bus. */
const SYNTHETIC = taskRoute('synthetic');

let counter = 0;
function spec(experiment: string, params: TrialParams, extra: Partial<TrialSpec> = {}): TrialSpec {
  return {
    v: PROTOCOL_VERSION,
    experiment,
    experiment_id: experiment,
    trial_id: `n${++counter}`,
    attempt: 1,
    task: 'synthetic',
    params,
    seed: 1,
    ...extra,
  };
}

/** A NatsWorker serving a TrialPool in a child process, so the test can kill -9 it. */
async function childWorker(url: string, name: string): Promise<ChildProcess> {
  const natsIndex = new URL('../worker/nats/index.js', import.meta.url).href;
  const poolIndex = new URL('../worker/pool/index.js', import.meta.url).href;
  const code = `
    const { connectNats, NatsWorker } = await import(${JSON.stringify(natsIndex)});
    const { TrialPool } = await import(${JSON.stringify(poolIndex)});
    const nc = await connectNats({ servers: [${JSON.stringify(url)}] });
    const pool = new TrialPool({ threads: 1, backend: 'cpu', name: ${JSON.stringify(name)} });
    const w = new NatsWorker(nc, pool, { name: ${JSON.stringify(name)}, fetchExpiresMs: 1000 });
    await w.start();
    process.stdout.write('ready\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  await until('the child worker to start', () => {
    if (child.exitCode !== null) throw new Error(`child worker exited: ${out}`);
    return out.includes('ready');
  });
  return child;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('NATS transport: failures and the bus', function () {
  this.timeout(60_000);
  let server: NatsServerHandle;
  let cleanups: (() => Promise<unknown> | void)[];
  let admin: NatsConnection;

  async function transport(rec: Recorder, options: NatsTransportOptions = {}): Promise<NatsTransport> {
    const t = new NatsTransport(await connectNats({ servers: [server.url] }), { logger, ...options });
    cleanups.push(() => t.close());
    await t.start(rec);
    return t;
  }

  async function startWorker(name: string, options: NatsWorkerOptions = {}): Promise<NatsWorker> {
    const w = await worker(server.url, name, options);
    cleanups.push(() => w.close());
    return w;
  }

  async function queued(): Promise<number> {
    const jsm = await jetstreamManager(admin);
    return (await jsm.streams.info('HPO_TRIALS')).state.messages;
  }

  beforeEach(async () => {
    logs = [];
    cleanups = [];
    server = await startNatsServer();
    admin = await connectNats({ servers: [server.url] });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`component logs:\n${logs.join('\n')}\n`);
    for (const c of cleanups.reverse()) await c();
    await admin.close();
    await server.stop();
  });

  it('a worker killed mid-trial: the trial is redelivered after ack_wait and finishes on another, one result', async () => {
    const rec = new Recorder();
    const t = await transport(rec, { ackWaitMs: 2000, maxDeliver: 3 });
    const victim = await childWorker(server.url, 'victim');
    cleanups.push(() => killed(victim));
    const s = spec('crash', { x: 1, epochs: 6, sleep_ms: 150 });
    await t.submit(s);
    await until('an epoch from the victim', () => rec.epochs.some((e) => e.worker === 'victim'));
    const rescuer = await startWorker('rescuer');
    await killed(victim);
    const killedAt = Date.now();
    await rec.waitForResults(1);
    await sleep(300);
    assert.equal(rec.results.length, 1);
    const [r] = rec.results;
    assert.equal(r.trial_id, s.trial_id);
    assert.equal(r.state, 'completed');
    assert.equal(r.epochs, 6);
    assert.equal(r.worker, 'rescuer');
    assert.ok(Date.now() - killedAt >= 1500, 'redelivered only after ack_wait');
    assert.equal(rescuer.stats().redelivered, 1);
    assert.equal(t.inFlight(), 0);
    // The worker acks a trial after its result's publish is acknowledged, so the ack can trail the result.
    await until('the queue to empty', async () => (await queued()) === 0, 5000);
  });

  it('an event whose handler must retry later (the store cannot write) is kept past 5 deliveries and applied once it can', async function () {
    this.timeout(120_000);
    const rec = new Recorder();
    // The store "cannot write" for the first 6 calls of each handler: more than the 5 deliveries after
    // which an event whose handler fails otherwise is dropped.
    let epochFailures = 0;
    let resultFailures = 0;
    const onEpoch = rec.onEpoch.bind(rec);
    const onResult = rec.onResult.bind(rec);
    rec.onEpoch = (e) =>
      ++epochFailures <= 6 ? Promise.reject(new RetryLaterError('disk full')) : onEpoch(e);
    rec.onResult = (r) =>
      ++resultFailures <= 6 ? Promise.reject(new RetryLaterError('disk full')) : onResult(r);
    const t = await transport(rec);
    await startWorker('w');
    // Epoch 1 travels as an epoch event, epoch 2 in the result.
    const s = spec('full', { x: 1, epochs: 2, sleep_ms: 0 });
    await t.submit(s);
    await rec.waitForResults(1, 100_000);
    assert.equal(resultFailures, 7);
    assert.deepEqual(
      rec.results.map((r) => [r.trial_id, r.state]),
      [[s.trial_id, 'completed']],
    );
    // The epochs too (epoch 1's decision request got `continue`; its stream delivery is retried until
    // recorded; epoch 2 is recorded before its result).
    await until('the epochs', () => rec.epochs.length === 2, 60_000);
    assert.deepEqual(rec.epochs.map((e) => e.epoch).sort(), [1, 2]);
    assert.ok(epochFailures >= 7);
    assert.ok(t.stats().handlerErrors >= 6);
  });

  it('a trial whose every delivery dies ends failed through the max_deliver advisory, and leaves the queue', async () => {
    const rec = new Recorder();
    const t = await transport(rec, { ackWaitMs: 1000, maxDeliver: 1 });
    const victim = await childWorker(server.url, 'victim');
    cleanups.push(() => killed(victim));
    await t.submit(spec('doomed-worker', { x: 1, epochs: 50, sleep_ms: 100 }));
    await until('an epoch from the victim', () => rec.epochs.some((e) => e.worker === 'victim'));
    await killed(victim);
    // The server notices a used-up message when a consumer pulls: the fleet goes on pulling.
    const bystander = await startWorker('bystander');
    await rec.waitForResults(1);
    const [r] = rec.results;
    assert.equal(r.state, 'failed');
    assert.match(r.error ?? '', /gave up after 1 deliveries \(max_deliver\)/);
    assert.equal(bystander.stats().trialsDone, 0);
    await until('the queue to empty', async () => (await queued()) === 0, 5000);
  });

  it('results published while the orchestrator is down are applied when it comes back', async () => {
    const rec1 = new Recorder();
    // The store's record of the experiment: both orchestrators know its bus id and token secret.
    const key = { name: 'resume', id: 'resume', secret: 'a-secret-of-the-store' };
    const t1 = new NatsTransport(await connectNats({ servers: [server.url] }), {
      logger,
      experiments: [key],
    });
    await t1.start(rec1);
    const w = await startWorker('w1');
    const s = spec('resume', { x: 1, epochs: 4, sleep_ms: 200 });
    await t1.submit(s);
    await until('the first epoch', () => rec1.epochs.length >= 1);
    await t1.close();
    await until('the worker to finish the trial', () => w.stats().trialsDone === 1);
    assert.equal(rec1.results.length, 0);

    const rec2 = new Recorder();
    await transport(rec2, { experiments: [key] });
    await rec2.waitForResults(1);
    assert.equal(rec2.results[0].trial_id, s.trial_id);
    assert.equal(rec2.results[0].state, 'completed');
    assert.equal(rec2.results[0].epochs, 4);
    // The epochs nobody answered are replayed from the stream too (the one already handled is not).
    assert.deepEqual(
      rec2.epochs.map((e) => e.epoch),
      [2, 3, 4],
    );
    await sleep(300);
    assert.equal(rec2.results.length, 1);
  });

  it('a trial refused everywhere is re-queued past max_deliver, then ends failed once every live worker refused it after maxRefusals, and is termed', async () => {
    const rec = new Recorder();
    const t = await transport(rec, { maxDeliver: 3, maxRefusals: 5 });
    const refuse = (s: TrialSpec) =>
      s.data?.sha256 === 'mine' ? null : `data set sha256 mismatch: trial wants ${s.data?.sha256}, have mine`;
    const a = await startWorker('a', { accept: refuse, refuseDelayMs: 50, maxRefusals: 5 });
    const b = await startWorker('b', { accept: refuse, refuseDelayMs: 50, maxRefusals: 5 });
    await t.submit(spec('refused', { x: 1, epochs: 2 }, { data: { seed: 1, sha256: 'theirs' } }));
    await rec.waitForResults(1, 120_000);
    const [r] = rec.results;
    assert.equal(r.state, 'failed');
    const m =
      /refused by worker [ab]: data set sha256 mismatch: trial wants theirs, have mine \(refused (\d+) times in all, by 2 worker\(s\): no worker offering task synthetic accepted the trial\)/.exec(
        r.error ?? '',
      );
    assert.ok(m, r.error);
    // At least 5 refusals with max_deliver 3: the trial was queued again (refusals do not use up deliveries).
    assert.ok(Number(m[1]) >= 5, m[1]);
    assert.equal(a.stats().refused + b.stats().refused, Number(m[1]));
    // The worker acks a trial after its result's publish is acknowledged, so the ack can trail the result.
    await until('the queue to empty', async () => (await queued()) === 0, 5000);
  });

  it('a worker whose data set does not match refuses the trial; another worker runs it', async () => {
    const rec = new Recorder();
    const t = await transport(rec, { maxDeliver: 5 });
    const wrong = await startWorker('wrong-data', {
      accept: (s) => (s.data?.sha256 === 'bbb' ? 'data set sha256 mismatch: have aaa' : null),
      refuseDelayMs: 200,
    });
    await t.submit(spec('sha', { x: 1, epochs: 2 }, { data: { seed: 3, sha256: 'bbb' } }));
    await until('a refusal', () => wrong.stats().refused >= 1);
    await startWorker('right-data', { accept: (s) => (s.data?.sha256 === 'bbb' ? null : 'mismatch') });
    await rec.waitForResults(1);
    assert.equal(rec.results[0].state, 'completed');
    assert.equal(rec.results[0].worker, 'right-data');
    assert.ok(
      logs.some(
        (l) => l.includes('"worker":"wrong-data"') && /refusing trials: data set sha256 mismatch/.test(l),
      ),
      logs.join('\n'),
    );
  });

  it('invalid messages on every subject are counted, logged once per reason and never crash anything', async () => {
    const rec = new Recorder();
    // max_deliver 2: a trial message nobody can read is handed back (never acked) once, then the
    // orchestrator owning its subject removes it on the max-deliveries advisory.
    const t = await transport(rec, { experiments: [{ name: 'inv', id: 'inv', secret: 's' }], maxDeliver: 2 });
    // It creates the synthetic route's consumer (before the transport's first submit would): max_deliver 2.
    const w = await startWorker('w1', { unreadableDelayMs: 100, maxDeliver: 2 });
    const js = jetstream(admin);
    const text = (o: unknown) => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));

    // Trials: garbage, a wrong version, a spec on another experiment's subject (20 of the first).
    for (let i = 0; i < 20; i++) await js.publish(`hpo.trials.inv.${SYNTHETIC}`, text('{not json'));
    await js.publish(`hpo.trials.inv.${SYNTHETIC}`, text({ ...spec('inv', {}), v: 0 }));
    await js.publish(`hpo.trials.inv.${SYNTHETIC}`, text(spec('elsewhere', {})));
    // Events: random bytes, an old version, an unexpected subject, a huge payload.
    await js.publish('hpo.events.inv.result', new Uint8Array([0xff, 0x00, 0x13]));
    await js.publish('hpo.events.inv.epoch', text({ v: 0, experiment: 'inv' }));
    await js.publish('hpo.events.inv.bogus', text({ v: 1 }));
    // Decision requests and cancels, raw.
    await assert.rejects(admin.request('hpo.decide.inv', text('nope'), { timeout: 300 }));
    admin.publish('hpo.cancel.inv', text({ v: 1 }));
    admin.publish('hpo.cancel.inv', text({ v: 1, experiment: 'other' }));
    admin.publish('hpo.workers.heartbeat', text('junk'));
    // A rogue responder answering decision requests with garbage.
    const rogue = admin.subscribe('hpo.decide.rogue', {
      callback: (_e, m) => void m.respond(text({ v: 1, decision: 'maybe' })),
    });
    await admin.flush();
    await js.publish(
      `hpo.trials.rogue.${SYNTHETIC}`,
      text(spec('rogue', { x: 1, epochs: 3 }, { token: 'r'.repeat(22) })),
    );

    await until('the worker to reject the bad trials', () => w.invalidMessages >= 2 * 22 + 2);
    await until('the transport to reject the bad events', () => t.invalidMessages >= 4);
    await until('the rogue trial to finish', () => w.stats().trialsDone === 1);
    rogue.unsubscribe();

    // Everything still works.
    await t.submit(spec('inv', { x: 1, epochs: 2 }));
    await rec.waitForResults(1);
    assert.equal(rec.results[0].state, 'completed');
    assert.equal(t.invalidMessages, 4);
    // 22 trials twice each (max_deliver 2), 2 cancels, 2 decision replies (one per epoch of the rogue
    // trial but its last, which travels in the result).
    assert.equal(w.invalidMessages, 48);
    // The worker acks a trial after its result's publish is acknowledged, so the ack can trail the result;
    // the unreadable ones leave through the advisory.
    await until('the queue to empty', async () => (await queued()) === 0, 10_000);
    const jsonLines = logs.filter((l) =>
      /trial message on hpo\.trials\.inv\.[0-9a-f]{32}: payload: not valid JSON/.test(l),
    );
    assert.equal(jsonLines.length, 1, 'the same reason is logged once');
    const workers = await listWorkers(admin, { timeoutMs: 300 });
    assert.deepEqual(
      workers.map((x) => x.name),
      ['w1'],
    );
    assert.equal(workers[0].invalid_messages, 48);
  });

  it('per trial: the last epoch rides in the result, no decision is asked without a scheduler that stops, a short trial sends no started event', async () => {
    const rec = new Recorder();
    const t = await transport(rec, { experiments: [{ name: 'lean', id: 'lean', secret: 's' }] });
    await startWorker('w1', { startedAfterMs: 3000 });
    const count = async (kind: string) => {
      const subject = `hpo.events.lean.${kind}`;
      const info = await (
        await jetstreamManager(admin)
      ).streams.info('HPO_EVENTS', {
        subjects_filter: subject,
      });
      return info.state.subjects?.[subject] ?? 0;
    };

    // Asking (the default): epochs 1 and 2 as events with a decision each, epoch 3 in the result.
    await t.submit(spec('lean', { x: 1, epochs: 3 }));
    await rec.waitForResults(1);
    const [r1] = rec.results;
    assert.equal(r1.state, 'completed');
    assert.deepEqual(r1.final_epoch?.epoch, 3);
    // The handler saw every epoch, the last one before the result, with the metrics the worker measured.
    assert.deepEqual(
      rec.epochs.map((e) => [e.trial_id, e.epoch]),
      [1, 2, 3].map((e) => [r1.trial_id, e]),
    );
    assert.deepEqual(rec.epochs[2].metrics, r1.final_epoch?.metrics);
    assert.equal(rec.epochs[2].token, r1.token);
    assert.equal(t.stats().decisionsAnswered, 2);
    assert.equal(await count('epoch'), 2);
    assert.equal(await count('started'), 0, 'a trial shorter than startedAfterMs sends no started event');

    // decisions: false (FIFO): epochs recorded, none asked.
    await t.submit(spec('lean', { x: 2, epochs: 3 }, { decisions: false }));
    await rec.waitForResults(2);
    assert.equal(rec.results[1].state, 'completed');
    assert.deepEqual(
      rec.epochs.slice(3).map((e) => e.epoch),
      [1, 2, 3],
    );
    assert.equal(t.stats().decisionsAnswered, 2, 'no decision asked');
    assert.equal(await count('epoch'), 4);

    // A stop decision at an earlier epoch still ends the trial there (its epoch is the result's last).
    rec.decide = (e) => (e.epoch === 1 ? 'stop' : 'continue');
    await t.submit(spec('lean', { x: 3, epochs: 3 }));
    await rec.waitForResults(3);
    assert.equal(rec.results[2].state, 'stopped');
    assert.equal(rec.results[2].epochs, 1);
    assert.equal(rec.results[2].final_epoch, undefined, 'epoch 1 travelled as an epoch event');

    // A trial running longer than startedAfterMs reports that it started.
    rec.decide = () => 'continue';
    await t.submit(spec('lean', { x: 4, epochs: 1, sleep_ms: 3500 }));
    await rec.waitForResults(4);
    await until('the started event to be stored', async () => (await count('started')) === 1, 5000);
  });

  it('listWorkers sees every worker with its slots, load and backend', async () => {
    await transport(new Recorder());
    await startWorker('alpha');
    await startWorker('beta', { backend: 'wasm' });
    const workers = await listWorkers(admin, { timeoutMs: 500 });
    assert.deepEqual(
      workers.map((w) => [w.name, w.slots, w.busy, w.backend, w.draining]),
      [
        ['alpha', 1, 0, 'cpu', false],
        ['beta', 1, 0, 'wasm', false],
      ],
    );
    assert.ok(workers.every((w) => w.sent_at >= w.started_at));
  });

  it('drain() lets a running trial finish; with a deadline it hands the trial back at once', async () => {
    const rec = new Recorder();
    const t = await transport(rec, { ackWaitMs: 30_000 });
    const first = await startWorker('first', { closeExecutor: true });
    await t.submit(spec('drain', { x: 1, epochs: 3, sleep_ms: 100 }));
    await until('the trial to start', () => rec.epochs.length >= 1);
    await first.drain();
    assert.equal(first.stats().trialsDone, 1);
    await rec.waitForResults(1);
    assert.equal(rec.results[0].worker, 'first');

    const second = await startWorker('second');
    await t.submit(spec('drain', { x: 2, epochs: 100, sleep_ms: 100 }));
    await until('the long trial to start', () => rec.epochs.some((e) => e.worker === 'second'));
    const began = Date.now();
    const draining = second.drain({ deadlineMs: 200 });
    const third = await startWorker('third');
    await draining;
    assert.equal(second.stats().requeued, 1);
    await until(
      'the third worker to take the trial',
      () => rec.epochs.some((e) => e.worker === 'third'),
      10_000,
    );
    assert.ok(Date.now() - began < 10_000, 'handed back well before ack_wait (30 s)');
    assert.equal(third.busy(), 1);
    await t.cancel('drain');
    await until('the cancel to reach the third worker', () => third.busy() === 0, 5000);
    assert.equal(third.stats().cancelled, 1);
  });

  it('cancel of one trial removes it from the queue or stops it, and leaves the others', async () => {
    const rec = new Recorder();
    const t = await transport(rec);
    await startWorker('w1');
    const running = spec('one', { x: 1, epochs: 100, sleep_ms: 50 });
    const waiting = spec('one', { x: 2, epochs: 100, sleep_ms: 50 });
    const kept = spec('one', { x: 3, epochs: 2, sleep_ms: 10 });
    await t.submit(running);
    await until('the first trial to run', () => rec.epochs.length >= 1);
    await t.submit(waiting);
    await t.cancel('one', waiting.trial_id); // queued: deleted from the stream
    await t.cancel('one', running.trial_id); // running: aborted
    await t.submit(kept);
    await rec.waitForResults(1);
    await sleep(300);
    assert.deepEqual(
      rec.results.map((r) => r.trial_id),
      [kept.trial_id],
    );
    assert.equal(t.inFlight(), 0);
    // The worker acks a trial after its result's publish is acknowledged, so the ack can trail the result.
    await until('the queue to empty', async () => (await queued()) === 0, 5000);
  });

  it('a server restart mid-trial: the trial still ends with its result', async () => {
    const rec = new Recorder();
    const t = await transport(rec);
    await startWorker('w1');
    await t.submit(spec('restart', { x: 1, epochs: 8, sleep_ms: 250 }));
    await until('the first epoch', () => rec.epochs.length >= 1);
    await server.restart();
    await rec.waitForResults(1, 30_000);
    assert.equal(rec.results[0].state, 'completed');
    assert.equal(rec.results[0].epochs, 8);
  });
});
