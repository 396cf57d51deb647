/**
 * Property-based tests (fast-check, fixed seeds) of the bus messages. First the validators alone:
 * arbitrary values, random bytes, valid messages with one field of a wrong type or missing, old and
 * future protocol versions, huge and deeply nested payloads never make them throw; a rejection is a
 * short error naming the field; valid messages are accepted as they are. Then the real thing: while a
 * search runs over a real nats-server (an in-process worker and a real `hpo worker` process), fuzzed
 * payloads are published on every subject the workers and the orchestrator listen on. Nothing crashes
 * or hangs, the search finishes with every trial once, and every rejection is counted.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import fc from 'fast-check';
import { startQueryResponder } from '../orchestrator/api/nats-responder.js';
import { SearchRunner } from '../orchestrator/core/index.js';
import { FifoScheduler } from '../orchestrator/schedulers/index.js';
import type { SearchSpace } from '../orchestrator/search-space/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { createStrategy } from '../orchestrator/strategies/index.js';
import { NatsTransport } from '../orchestrator/transport/nats/index.js';
import { busNames, taskRoute } from '../shared/protocol/bus.js';
import { BACKEND_CHOICES, BACKEND_NAMES } from '../shared/protocol/backend-names.js';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import {
  MAX_MESSAGE_BYTES,
  type Validation,
  parseMessage,
  validateCancel,
  validateDecisionReply,
  validateDecisionRequest,
  validateEpochEvent,
  validateRefusalEvent,
  validateStartedEvent,
  validateResultEvent,
  validateTrialSpec,
  validateWorkerHeartbeat,
} from '../shared/protocol/validate.js';
import { NatsWorker, connectNats } from '../worker/nats/index.js';
import { listWorkers } from '../orchestrator/api/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { startHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { createLogger } from '../shared/log/index.js';
import { workerArgs } from './helpers/spawn-worker.js';

type Validator = (input: unknown) => Validation<unknown>;

const encoder = new TextEncoder();
const bytes = (value: unknown) => encoder.encode(typeof value === 'string' ? value : JSON.stringify(value));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A name the validators accept: non-empty, no control characters, at most 256 characters. */
const nameArb = fc
  .string({ minLength: 1, maxLength: 30, unit: 'binary' })
  // eslint-disable-next-line no-control-regex -- names must not contain control characters
  .filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
/** Finite doubles, -0 as 0 (JSON writes -0 as 0). */
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x));
const paramValue = fc.oneof(finiteDouble, fc.string({ maxLength: 20 }), fc.boolean());
const paramsArb = fc.dictionary(nameArb, paramValue, { maxKeys: 6, noNullPrototype: true });
const metricsArb = fc.dictionary(nameArb, finiteDouble, { maxKeys: 6, noNullPrototype: true });
const seedArb = fc.integer({ min: 0, max: 2 ** 32 - 1 });
/** Times on the wire: integer epoch ms within the window around the receiver's clock (the last year here). */
const NOW = Date.now();
const timeArb = fc.integer({ min: NOW - 365 * 24 * 3600 * 1000, max: NOW });
const v = fc.constant(PROTOCOL_VERSION);
const idChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-');
/** An experiment bus id: 1-64 of [A-Za-z0-9_-]. */
const busIdArb = fc.string({ unit: idChars, minLength: 1, maxLength: 64 });
/** A delivery token: 16-128 of [A-Za-z0-9_-]. */
const tokenArb = fc.string({ unit: idChars, minLength: 16, maxLength: 128 });

const trialSpec = fc.record(
  {
    v,
    experiment: nameArb,
    experiment_id: busIdArb,
    token: tokenArb,
    trial_id: nameArb,
    attempt: fc.integer({ min: 1, max: 100 }),
    task: nameArb,
    params: paramsArb,
    seed: seedArb,
    data: fc.record(
      {
        seed: seedArb,
        sha256: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
      },
      {
        requiredKeys: ['seed'],
        noNullPrototype: true,
      },
    ),
    save_model: fc.boolean(),
  },
  {
    requiredKeys: [
      'v',
      'experiment',
      'experiment_id',
      'token',
      'trial_id',
      'attempt',
      'task',
      'params',
      'seed',
    ],
    noNullPrototype: true,
  },
);
const epochEvent = fc.record(
  {
    v,
    experiment: nameArb,
    experiment_id: busIdArb,
    token: tokenArb,
    trial_id: nameArb,
    attempt: fc.integer({ min: 1, max: 100 }),
    epoch: fc.integer({ min: 1, max: 1000 }),
    metrics: metricsArb,
    worker: nameArb,
  },
  { noNullPrototype: true },
);
const resultEvent = fc.record(
  {
    v,
    experiment: nameArb,
    experiment_id: busIdArb,
    token: tokenArb,
    trial_id: nameArb,
    attempt: fc.integer({ min: 1, max: 100 }),
    state: fc.constantFrom('completed', 'stopped', 'failed'),
    metrics: metricsArb,
    epochs: fc.integer({ min: 0, max: 1000 }),
    worker: nameArb,
    started_at: timeArb,
    ended_at: timeArb,
    error: fc.string({ maxLength: 50 }),
    backend: nameArb,
  },
  {
    requiredKeys: [
      'v',
      'experiment',
      'experiment_id',
      'token',
      'trial_id',
      'attempt',
      'state',
      'metrics',
      'epochs',
      'worker',
      'started_at',
      'ended_at',
    ],
    noNullPrototype: true,
  },
);
const decisionReply = fc.record(
  { v, decision: fc.constantFrom('continue', 'stop') },
  { noNullPrototype: true },
);
const cancel = fc.record(
  { v, experiment: nameArb, experiment_id: busIdArb, trial_id: nameArb },
  { requiredKeys: ['v', 'experiment', 'experiment_id'], noNullPrototype: true },
);
const refusal = fc.record(
  {
    v,
    experiment: nameArb,
    experiment_id: busIdArb,
    trial_id: nameArb,
    attempt: fc.integer({ min: 1, max: 100 }),
    token: tokenArb,
    worker: nameArb,
    reason: fc.string({ maxLength: 50 }),
    refusals: fc.integer({ min: 1, max: 1000 }),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  },
  { noNullPrototype: true },
);
const started = fc.record(
  {
    v,
    experiment: nameArb,
    experiment_id: busIdArb,
    token: tokenArb,
    trial_id: nameArb,
    attempt: fc.integer({ min: 1, max: 100 }),
    worker: nameArb,
  },
  { noNullPrototype: true },
);
const heartbeat = fc.record(
  {
    v,
    name: nameArb,
    slots: fc.nat(64),
    busy: fc.nat(64),
    trials_done: fc.nat(),
    started_at: timeArb,
    sent_at: timeArb,
    draining: fc.boolean(),
    invalid_messages: fc.nat(),
    backend: fc.constantFrom(...BACKEND_CHOICES),
    backends_in_use: fc.uniqueArray(fc.constantFrom(...BACKEND_NAMES), { maxLength: BACKEND_NAMES.length }),
  },
  {
    requiredKeys: [
      'v',
      'name',
      'slots',
      'busy',
      'trials_done',
      'started_at',
      'sent_at',
      'draining',
      'invalid_messages',
    ],
    noNullPrototype: true,
  },
);

/** `anyVersion`: heartbeats of every protocol version are read (hpo workers shows the version). */
const KINDS: {
  name: string;
  validate: Validator;
  valid: fc.Arbitrary<Record<string, unknown>>;
  anyVersion?: boolean;
}[] = [
  { name: 'TrialSpec', validate: validateTrialSpec, valid: trialSpec },
  { name: 'EpochEvent', validate: validateEpochEvent, valid: epochEvent },
  { name: 'ResultEvent', validate: validateResultEvent, valid: resultEvent },
  { name: 'DecisionReply', validate: validateDecisionReply, valid: decisionReply },
  { name: 'CancelMessage', validate: validateCancel, valid: cancel },
  { name: 'RefusalEvent', validate: validateRefusalEvent, valid: refusal },
  { name: 'StartedEvent', validate: validateStartedEvent, valid: started },
  { name: 'WorkerHeartbeat', validate: validateWorkerHeartbeat, valid: heartbeat, anyVersion: true },
];

/** Protocol versions this build does not speak: older, newer, and the wrong type. */
const badVersion = fc.oneof(
  fc.integer().filter((n) => n !== PROTOCOL_VERSION),
  fc.constantFrom(0, PROTOCOL_VERSION + 1, 99, '1', `${PROTOCOL_VERSION}`, null, 1.5, true, [1], {}),
);

/** A valid message with one field replaced by an arbitrary value, or removed. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>) {
  return fc
    .tuple(valid, fc.nat(), fc.option(fc.anything({ maxDepth: 2 }), { freq: 4 }))
    .map(([message, pick, replacement]) => {
      const fields = Object.keys(message);
      const field = fields[pick % fields.length];
      const copy: Record<string, unknown> = { ...message };
      if (replacement === null) delete copy[field];
      else copy[field] = replacement;
      return { message: copy, field };
    });
}

const anyInput = fc.oneof(
  fc.anything({ maxDepth: 4, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true }),
  fc.jsonValue({ maxDepth: 4 }),
);

/** A rejection must be one short line naming what is wrong: `field: expected ...` or `payload: ...`. */
function assertClearError(result: Validation<unknown>): void {
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(typeof result.error, 'string');
  assert.match(result.error, /^[A-Za-z_]+[.:[]/, result.error);
  assert.ok(result.error.includes(': '), result.error);
  assert.ok(
    result.error.length <= 300,
    `error too long (${result.error.length}): ${result.error.slice(0, 300)}`,
  );
  assert.ok(!result.error.includes('\n'), 'error on one line');
}

/** Accepted: the value validates again to itself, also after a JSON round trip (the wire). */
function assertStable(validate: Validator, result: Validation<unknown>): void {
  if (!result.ok) return assertClearError(result);
  const again = validate(result.value);
  assert.ok(again.ok);
  assert.deepEqual(again.value, result.value);
  const wire = parseMessage(bytes(result.value), validate);
  assert.ok(wire.ok, wire.ok ? '' : wire.error);
}

describe('fuzz: bus message validators (fast-check)', function () {
  this.timeout(120_000);

  for (const [i, kind] of KINDS.entries()) {
    describe(kind.name, () => {
      it('valid messages are accepted unchanged', () => {
        fc.assert(
          fc.property(kind.valid, (message) => {
            const r = kind.validate(message);
            assert.ok(r.ok, r.ok ? '' : r.error);
            assert.deepEqual(r.value, message);
            const wire = parseMessage(bytes(message), kind.validate);
            assert.ok(wire.ok, wire.ok ? '' : wire.error);
            assert.deepEqual(wire.value, message);
          }),
          { seed: 100 + i, numRuns: 300 },
        );
      });

      it('arbitrary values never throw: accepted stably, or a clear one-line error', () => {
        fc.assert(
          fc.property(anyInput, (input) => assertStable(kind.validate, kind.validate(input))),
          { seed: 200 + i, numRuns: 500 },
        );
      });

      it('one field of a wrong type or missing: rejected naming that field (or accepted if still valid)', () => {
        fc.assert(
          fc.property(mutated(kind.valid), ({ message, field }) => {
            const r = kind.validate(message);
            if (r.ok) return assertStable(kind.validate, r);
            assertClearError(r);
            assert.ok(
              r.error.startsWith(`${field}:`) ||
                r.error.startsWith(`${field}.`) ||
                r.error.startsWith(`${field}[`),
              `mutated ${field}, error names another field: ${r.error}`,
            );
          }),
          { seed: 300 + i, numRuns: 500 },
        );
      });

      it('old, future and mistyped protocol versions are rejected with the version in the error', () => {
        fc.assert(
          fc.property(kind.valid, badVersion, fc.boolean(), (message, version, drop) => {
            const copy: Record<string, unknown> = { ...message, v: version };
            if (drop) delete copy.v;
            const r = kind.validate(copy);
            const n = version as number;
            if (kind.anyVersion && Number.isSafeInteger(version) && n >= 1 && n <= 1_000_000 && !drop) {
              return assert.ok(r.ok && r.value !== null, 'a heartbeat of any version 1..1000000 is read');
            }
            assertClearError(r);
            assert.ok(!r.ok && r.error.startsWith('v: '), !r.ok ? r.error : '');
            if (!drop && !kind.anyVersion)
              assert.match(
                !r.ok ? r.error : '',
                new RegExp(`unsupported protocol version .* speaks ${PROTOCOL_VERSION}`),
              );
          }),
          { seed: 400 + i, numRuns: 200 },
        );
      });

      it('random bytes through parseMessage never throw and are rejected clearly', () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
            assertStable(kind.validate, parseMessage(data, kind.validate));
          }),
          { seed: 500 + i, numRuns: 500 },
        );
      });
    });
  }

  it('huge payloads: over the limit rejected by size; 1 MB of nesting, keys or text rejected clearly', () => {
    const over = new Uint8Array(MAX_MESSAGE_BYTES + 1).fill(0x20);
    const r = parseMessage(over, validateTrialSpec);
    assert.deepEqual(r, {
      ok: false,
      error: `payload: ${MAX_MESSAGE_BYTES + 1} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`,
    });
    const TOK = 'T'.repeat(22);
    const depth = 400_000;
    const deep = parseMessage(bytes('['.repeat(depth) + ']'.repeat(depth)), validateEpochEvent);
    assertClearError(deep);
    const deepObject = parseMessage(
      bytes(
        `{"v":${PROTOCOL_VERSION},"experiment":"e","experiment_id":"e","token":"${TOK}","trial_id":"t","attempt":1,"epoch":1,"worker":"w","metrics":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
      ),
      validateEpochEvent,
    );
    assertClearError(deepObject);
    assert.match(!deepObject.ok ? deepObject.error : '', /^metrics\.a: expected a number, got an object$/);
    const manyKeys = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
    const tooMany = validateTrialSpec({
      v: PROTOCOL_VERSION,
      experiment: 'e',
      experiment_id: 'e',
      token: TOK,
      trial_id: 't',
      attempt: 1,
      task: 'synthetic',
      params: manyKeys,
      seed: 1,
    });
    assert.deepEqual(tooMany, { ok: false, error: 'params: expected at most 1000 entries, got "50000"' });
    const longKey = validateEpochEvent({
      v: PROTOCOL_VERSION,
      experiment: 'e',
      experiment_id: 'e',
      token: TOK,
      trial_id: 't',
      attempt: 1,
      epoch: 1,
      worker: 'w',
      metrics: { ['k'.repeat(900_000)]: 'x' },
    });
    assertClearError(longKey);
    const longName = validateCancel({
      v: PROTOCOL_VERSION,
      experiment: 'x'.repeat(900_000),
      experiment_id: 'e',
    });
    assert.deepEqual(longName, {
      ok: false,
      error: 'experiment: expected at most 256 characters, got a string of 900000 characters',
    });
    const longError = validateResultEvent({
      v: PROTOCOL_VERSION,
      experiment: 'e',
      experiment_id: 'e',
      token: TOK,
      trial_id: 't',
      attempt: 1,
      state: 'failed',
      metrics: {},
      epochs: 0,
      worker: 'w',
      started_at: NOW,
      ended_at: NOW,
      error: 'e'.repeat(900_000),
    });
    assert.ok(longError.ok);
    assert.ok(longError.value.error!.length <= 16 * 1024 + 1, 'a long error text is truncated, not rejected');
  });
});

// ---------------------------------------------------------------------------------------------------
// The real thing: fuzzed payloads on every subject while a search runs.

const EXP = 'fuzzbus';
const TRIALS = 24;

function space(): SearchSpace {
  return {
    method: 'grid',
    metric: { name: 'val_acc', goal: 'maximize' },
    parameters: {
      a: { kind: 'categorical', values: [1, 2, 3, 4, 5, 6] },
      b: { kind: 'categorical', values: ['x', 'y'] },
      c: { kind: 'categorical', values: [0.1, 0.01] },
      epochs: { kind: 'constant', value: 3 },
      sleep_ms: { kind: 'constant', value: 60 },
    },
    task: 'synthetic',
    seed: 5,
    data: { seed: 1 },
  };
}

/** Payloads (all invalid for `validate`, so each must be counted once by whoever receives it). */
function invalidPayloads(
  valid: fc.Arbitrary<Record<string, unknown>>,
  validate: Validator,
  seed: number,
  n: number,
): Uint8Array[] {
  const arb = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((j) => bytes(JSON.stringify(j))),
    mutated(valid).map(({ message }) => bytes(message)),
    fc.tuple(valid, badVersion).map(([m, version]) => bytes({ ...m, v: version })),
  );
  const all = fc.sample(arb, { seed, numRuns: n * 2 });
  return all.filter((data) => !parseMessage(data, validate).ok).slice(0, n);
}

/** A ~1 MB near-valid message (under the limit, so it is parsed) with one bad field. */
function bigNearValid(message: Record<string, unknown>, bad: Record<string, unknown>): Uint8Array {
  return bytes({ ...message, padding: 'p'.repeat(1_000_000), ...bad });
}

describe('fuzz: bus messages on a real nats-server while a search runs', function () {
  this.timeout(240_000);
  let server: NatsServerHandle;
  let dir: string;
  const logs: string[] = [];
  const logger = createLogger({
    level: 'trace',
    pretty: false,
    destination: { write: (l) => logs.push(l.trimEnd()) },
  });
  let cleanups: (() => Promise<unknown> | void)[] = [];

  before(async () => {
    // max_payload above the validators' 1 MiB limit, so the size check itself is reached over the wire.
    server = await startNatsServer({ config: 'max_payload: 2097152\n' });
    dir = await mkdtemp(join(tmpdir(), 'hpo-fuzz-bus-'));
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(logs.slice(-60).join('\n'));
  });

  it('nothing crashes or hangs, every trial ends once, and every rejection is counted', async () => {
    const names = busNames();
    const store = SqliteStore.open(join(dir, 'hpo.db'));
    cleanups.push(async () => await store.close());
    const exp = await store.createExperiment(EXP, space(), 'fuzz');
    const ID = exp.bus_id;

    // max_deliver 2: a trial message no worker can read is handed back once, then removed by the
    // orchestrator on the max-deliveries advisory (workers never ack what they cannot read).
    const transport = new NatsTransport(await connectNats({ servers: [server.url] }), {
      logger,
      maxInFlight: 6,
      ackWaitMs: 5000,
      maxDeliver: 2,
      experiments: [{ name: EXP, id: ID, secret: exp.bus_secret }],
    });
    const wnc = await connectNats({ servers: [server.url], name: 'in-process' });
    const worker = new NatsWorker(wnc, new TrialPool({ threads: 2, backend: 'cpu', name: 'in-process' }), {
      name: 'in-process',
      logger,
      fetchExpiresMs: 1000,
      unreadableDelayMs: 100,
    });
    cleanups.push(() => transport.close());
    cleanups.push(() => worker.close());
    await worker.start();
    // A real `hpo worker` process too: its counter is read from its heartbeat.
    const child = startHpo(workerArgs(server.url, 'child'));
    let childOut = '';
    child.stdout!.on('data', (d: Buffer) => (childOut += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (childOut += d.toString()));
    const childExit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await childExit;
    });

    const admin = await connectNats({ servers: [server.url], name: 'fuzzer' });
    cleanups.push(() => admin.close());
    const js = jetstream(admin);
    const stopQueries = startQueryResponder(admin, store, EXP);
    cleanups.push(stopQueries);
    // Wait for the child worker's heartbeat so it takes part from the start.
    for (let i = 0; ; i++) {
      const found = await listWorkers(admin, { timeoutMs: 300 });
      if (found.some((w) => w.name === 'child')) break;
      if (child.exitCode !== null || i > 100) throw new Error(`hpo worker did not start:\n${childOut}`);
    }

    const runner = new SearchRunner({
      store,
      transport,
      strategy: createStrategy(space()),
      scheduler: new FifoScheduler(),
      experiment: EXP,
      total: TRIALS,
    });
    const outcome = runner.run();
    let finished = false;
    void outcome.finally(() => (finished = true));
    while ((await store.listTrials(EXP)).filter((t) => t.state === 'completed').length < 2) await sleep(20);

    const validSpec = fc.sample(trialSpec, { seed: 7, numRuns: 1 })[0];
    const validEpoch = fc.sample(epochEvent, { seed: 8, numRuns: 1 })[0];
    const validResult = fc.sample(resultEvent, { seed: 9, numRuns: 1 })[0];

    const mine = { experiment: EXP, experiment_id: ID };
    // Trials stream: counted by whichever worker receives each delivery (2 each: max_deliver), never
    // acked or termed.
    const trialPayloads = [
      ...invalidPayloads(trialSpec, validateTrialSpec, 11, 60),
      bytes({ ...validSpec, ...mine, v: 0 }),
      bytes({ ...validSpec, ...mine, v: PROTOCOL_VERSION + 1 }),
      bytes({ ...validSpec, experiment: 'elsewhere', task: 'synthetic' }), // valid, on the wrong subject
      bigNearValid({ ...validSpec, ...mine }, { attempt: 0 }),
      new Uint8Array(MAX_MESSAGE_BYTES + 1000).fill(0x7b), // over the limit (the server allows 2 MiB)
    ];
    for (const p of trialPayloads) await js.publish(names.trialsSubject(ID, taskRoute('synthetic')), p);
    // Events: counted by the orchestrator, including an unexpected subject under its filter, and
    // well-formed events without the token of a current delivery.
    const eventPayloads: [string, Uint8Array][] = [
      ...invalidPayloads(epochEvent, validateEpochEvent, 12, 40).map((p): [string, Uint8Array] => [
        names.eventsSubject(ID, 'epoch'),
        p,
      ]),
      ...invalidPayloads(resultEvent, validateResultEvent, 13, 40).map((p): [string, Uint8Array] => [
        names.eventsSubject(ID, 'result'),
        p,
      ]),
      [names.eventsSubject(ID, 'result'), bytes({ ...validResult, ...mine, v: 0 })],
      [names.eventsSubject(ID, 'epoch'), bytes({ ...validEpoch, ...mine, v: PROTOCOL_VERSION + 1 })],
      [names.eventsSubject(ID, 'result'), bytes({ ...validResult, experiment: 'other' })],
      [names.eventsSubject(ID, 'result'), bytes({ ...validResult, ...mine, trial_id: 't0000' })], // forged
      [names.eventsSubject(ID, 'epoch'), bytes({ ...validEpoch, ...mine, trial_id: 't0001' })], // forged
      [names.eventsSubject(ID, 'epoch'), bigNearValid({ ...validEpoch, ...mine }, { epoch: -1 })],
      [names.eventsSubject(ID, 'result'), new Uint8Array(MAX_MESSAGE_BYTES + 1).fill(0x20)],
      [`${names.eventsFilter(ID).slice(0, -2)}.bogus`, bytes({ v: 1 })],
    ];
    for (const [subject, p] of eventPayloads) await js.publish(subject, p);
    // Decision requests (core NATS): counted by the orchestrator, never answered.
    const decidePayloads = [
      ...invalidPayloads(epochEvent, validateDecisionRequest, 14, 40),
      bytes({ ...validEpoch, ...mine, v: 0 }),
      bytes({ ...validEpoch, ...mine, trial_id: 't0002', epoch: 4294967295 }),
      bytes({ ...validEpoch, ...mine, trial_id: 't0002', epoch: 2 }), // forged token
      bigNearValid({ ...validEpoch, ...mine }, { worker: '' }),
    ];
    for (const p of decidePayloads) admin.publish(names.decideSubject(ID), p);
    await assert.rejects(admin.request(names.decideSubject(ID), bytes('nope'), { timeout: 300 }));
    // Cancels (core NATS): counted by each of the 2 workers; none may cancel anything.
    const cancelPayloads = [
      ...invalidPayloads(cancel, validateCancel, 15, 40),
      bytes({ v: 0, ...mine }),
      bytes({ v: PROTOCOL_VERSION + 1, ...mine }),
      bytes({ v: PROTOCOL_VERSION, experiment: EXP, experiment_id: 'someone-else' }), // wrong subject
      bigNearValid({ v: PROTOCOL_VERSION, ...mine }, { trial_id: 42 }),
    ];
    for (const p of cancelPayloads) admin.publish(names.cancelSubject(ID), p);
    // Heartbeats, pings, the max-deliveries advisory: garbage is ignored (listWorkers skips it).
    const heartbeats = invalidPayloads(heartbeat, validateWorkerHeartbeat, 16, 40);
    const listing = listWorkers(admin, { timeoutMs: 500 });
    for (const p of heartbeats) admin.publish(names.heartbeatSubject, p);
    for (const p of fc.sample(fc.uint8Array({ maxLength: 100 }), { seed: 17, numRuns: 20 }))
      admin.publish(names.pingSubject, p);
    for (const p of invalidPayloads(trialSpec, validateTrialSpec, 18, 20))
      admin.publish(names.maxDeliveriesAdvisoryOf(taskRoute('synthetic')), p);
    admin.publish(names.maxDeliveriesAdvisoryOf(taskRoute('synthetic')), bytes({ stream_seq: 'x' }));
    // Status questions: every one gets an answer (an error for garbage), none kills the responder.
    const queries = fc.sample(
      fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.jsonValue().map(bytes)),
      {
        seed: 19,
        numRuns: 40,
      },
    );
    for (const q of [...queries, bytes({ kind: 'leaderboard', top: 1e9 }), bytes('x'.repeat(1_000_000))]) {
      const reply = await admin.request(names.querySubject(EXP), q, { timeout: 5000 });
      const answer = JSON.parse(new TextDecoder().decode(reply.data)) as Record<string, unknown>;
      assert.equal(typeof answer.error, 'string');
    }
    const status = await admin.request(names.querySubject(EXP), bytes({ kind: 'status' }), { timeout: 5000 });
    assert.equal((JSON.parse(new TextDecoder().decode(status.data)) as { name: string }).name, EXP);
    await admin.flush();
    const seenWorkers = await listing;
    assert.deepEqual(
      seenWorkers.map((w) => w.name),
      ['child', 'in-process'],
    );
    const fuzzEndedBeforeSearch = !finished;

    const result = await outcome;
    assert.equal(result.status, 'completed');
    const trials = await store.listTrials(EXP);
    assert.equal(trials.length, TRIALS);
    assert.equal(new Set(trials.map((t) => t.trial_id)).size, TRIALS);
    for (const t of trials) {
      assert.equal(t.state, 'completed', `${t.trial_id}: ${t.state} ${t.error ?? ''}`);
      assert.equal(t.attempt, 1);
      assert.equal((await store.listEpochs(EXP, t.trial_id)).length, 3);
    }

    // Every rejection counted: trials once per delivery (by whichever worker), cancels by each worker.
    const workerExpected = 2 * trialPayloads.length + 2 * cancelPayloads.length;
    const transportExpected = eventPayloads.length + decidePayloads.length + 1;
    const childCount = async () =>
      (await listWorkers(admin, { timeoutMs: 300 })).find((w) => w.name === 'child')?.invalid_messages ?? 0;
    let workerCount = 0;
    for (let i = 0; i < 100; i++) {
      workerCount = worker.stats().invalidMessages + (await childCount());
      if (workerCount >= workerExpected && transport.stats().invalidMessages >= transportExpected) break;
    }
    assert.equal(workerCount, workerExpected, 'worker-side rejections');
    assert.equal(transport.stats().invalidMessages, transportExpected, 'orchestrator-side rejections');
    assert.equal(transport.stats().handlerErrors, 0);
    // The queue holds nothing: every invalid trial message was removed by the orchestrator after its
    // deliveries, every trial acked.
    const jsm = await jetstreamManager(admin);
    for (let i = 0; (await jsm.streams.info(names.trialsStream)).state.messages > 0; i++) {
      assert.ok(i < 400, 'trial messages left in the queue');
      await sleep(50);
    }
    // Logs name the reasons, once each (rate-limited), never a megabyte of payload.
    assert.ok(logs.some((l) => /rejected invalid message: .*v: unsupported protocol version 0/.test(l)));
    assert.ok(logs.some((l) => /exceeds the 1048576-byte limit/.test(l)));
    assert.ok(
      logs.every((l) => l.length < 1000),
      'a log line echoed a payload',
    );
    assert.equal(child.exitCode, null, `hpo worker died:\n${childOut}`);
    assert.ok(!/unhandled|TypeError|RangeError/i.test(childOut), childOut.slice(-2000));
    await transport.close();
    // Informational: the fuzzing overlapped the search (it normally does; the counts above hold anyway).
    if (!fuzzEndedBeforeSearch) console.error('note: the search finished before the fuzzing did');
  });
});
