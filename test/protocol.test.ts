import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  busNames,
  epochMsgId,
  isBusId,
  nameToken,
  newBusId,
  refusalMsgId,
  resultMsgId,
  startedMsgId,
  taskRoute,
  trialMsgId,
} from '../shared/protocol/bus.js';
import { PROTOCOL_VERSION, type ResultEvent, type TrialSpec } from '../shared/protocol/index.js';
import {
  MAX_MESSAGE_BYTES,
  type Validation,
  decodeJson,
  encodeMessage,
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

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv';
/** Timestamps on the wire lie within a window around the receiver's clock. */
const NOW = Date.now();

const spec: TrialSpec = {
  v: PROTOCOL_VERSION,
  experiment: 'exp-1',
  experiment_id: 'a1b2c3d4e5f60718',
  token: TOKEN,
  trial_id: 't0001',
  attempt: 1,
  task: 'synthetic',
  params: { lr: 0.01, optimizer: 'adam', batchnorm: true },
  seed: 12345,
  data: { seed: 7, sha256: 'ab'.repeat(32) },
};
const epoch = {
  v: PROTOCOL_VERSION,
  experiment: 'exp-1',
  experiment_id: 'a1b2c3d4e5f60718',
  token: TOKEN,
  trial_id: 't0001',
  attempt: 2,
  epoch: 3,
  metrics: { val_acc: 0.5, loss: 1.2 },
  worker: 'host:1',
};
const result: ResultEvent = {
  v: PROTOCOL_VERSION,
  experiment: 'exp-1',
  experiment_id: 'a1b2c3d4e5f60718',
  token: TOKEN,
  trial_id: 't0001',
  attempt: 1,
  state: 'failed',
  metrics: { val_acc: 0.4 },
  epochs: 2,
  error: 'Error: boom',
  worker: 'host:1',
  backend: 'cpu',
  started_at: NOW - 2000,
  ended_at: NOW - 1000,
};
const heartbeat = {
  v: PROTOCOL_VERSION,
  name: 'w1',
  slots: 2,
  busy: 1,
  backend: 'wasm',
  trials_done: 3,
  started_at: NOW - 2,
  sent_at: NOW - 1,
  draining: false,
  invalid_messages: 0,
};

type Validator = (input: unknown) => Validation<unknown>;
/** Name, validator, a valid message, its optional fields. */
const validators: [string, Validator, Record<string, unknown>, string[]][] = [
  ['TrialSpec', validateTrialSpec, { ...spec, save_model: true }, ['data', 'save_model']],
  ['EpochEvent', validateEpochEvent, epoch, []],
  ['ResultEvent', validateResultEvent, result as unknown as Record<string, unknown>, ['error', 'backend']],
  ['decision request', validateDecisionRequest, epoch, []],
  ['decision reply', validateDecisionReply, { v: PROTOCOL_VERSION, decision: 'stop' }, []],
  [
    'cancel',
    validateCancel,
    { v: PROTOCOL_VERSION, experiment: 'exp-1', experiment_id: 'a1b2', trial_id: 't1' },
    ['trial_id'],
  ],
  [
    'refusal',
    validateRefusalEvent,
    {
      v: PROTOCOL_VERSION,
      experiment: 'exp-1',
      experiment_id: 'a1b2',
      trial_id: 't1',
      attempt: 1,
      token: TOKEN,
      worker: 'w',
      reason: 'data set sha256 mismatch',
      refusals: 4,
      seq: 17,
    },
    [],
  ],
  [
    'started',
    validateStartedEvent,
    {
      v: PROTOCOL_VERSION,
      experiment: 'exp-1',
      experiment_id: 'a1b2',
      token: TOKEN,
      trial_id: 't1',
      attempt: 1,
      worker: 'w',
    },
    [],
  ],
];

function rejects(v: Validation<unknown>, pattern: RegExp): void {
  assert.equal(v.ok, false, `expected a rejection matching ${pattern}`);
  if (!v.ok) assert.match(v.error, pattern);
}

describe('protocol validation', () => {
  for (const [name, validate, valid, optional] of validators) {
    describe(name, () => {
      it('accepts a valid message and returns a copy of its known fields only', () => {
        const v = validate({ ...valid, extra: 'ignored' });
        assert.ok(v.ok, v.ok ? '' : v.error);
        assert.deepEqual(v.value, valid);
        assert.notEqual(v.value, valid);
      });

      it('round-trips through bytes', () => {
        const v = parseMessage(encodeMessage(valid), validate);
        assert.ok(v.ok);
        assert.deepEqual(v.value, valid);
      });

      it('rejects an old, future or missing protocol version, naming v', () => {
        rejects(validate({ ...valid, v: 0 }), /^v: unsupported protocol version 0/);
        rejects(validate({ ...valid, v: PROTOCOL_VERSION - 1 }), /^v: unsupported protocol version/);
        rejects(validate({ ...valid, v: PROTOCOL_VERSION + 1 }), /^v: unsupported protocol version/);
        rejects(validate({ ...valid, v: '1' }), /^v: /);
        const { v: _v, ...noVersion } = valid;
        rejects(
          validate(noVersion),
          new RegExp(`^v: expected protocol version ${PROTOCOL_VERSION}, got nothing \\(missing\\)`),
        );
      });

      it('rejects every field missing or of a wrong type, naming the field', () => {
        for (const field of Object.keys(valid)) {
          if (field === 'v') continue;
          const { [field]: _gone, ...missing } = valid;
          const m = validate(missing);
          if (optional.includes(field)) assert.ok(m.ok, `${field} is optional in ${name}`);
          else rejects(m, new RegExp(`^${field}: expected .*, got nothing \\(missing\\)`));
          const other = typeof valid[field] === 'string' ? 42 : 'x';
          for (const wrong of [null, [], other]) {
            rejects(validate({ ...valid, [field]: wrong }), new RegExp(`^${field}: expected`));
          }
        }
      });

      it('never throws on random bytes or random JSON', () => {
        for (let i = 0; i < 300; i++) {
          const bytes = randomBytes(1 + (i % 64));
          const v = parseMessage(bytes, validate);
          assert.equal(v.ok, false);
        }
        const samples: unknown[] = [null, 0, 'x', [], [1, 2], true, {}, { v: 1 }, { ...valid, v: null }];
        for (const s of samples) assert.equal(validate(s).ok, false);
      });
    });
  }

  it('a heartbeat names backends from the enum only: asked (auto or a name) and in use (issue 25 item 7)', () => {
    const r = validateWorkerHeartbeat({
      ...heartbeat,
      backend: 'auto',
      backends_in_use: ['wasm', 'tensorflow'],
    });
    assert.ok(r.ok && r.value.backend === 'auto');
    assert.deepEqual(r.ok && r.value.backends_in_use, ['wasm', 'tensorflow']);
    rejects(validateWorkerHeartbeat({ ...heartbeat, backend: 'webgpu' }), /^backend: expected one of auto, /);
    rejects(validateWorkerHeartbeat({ ...heartbeat, backend: 'x'.repeat(200) }), /^backend: expected one of/);
    for (const bad of [
      'wasm',
      ['auto'],
      ['<b>'],
      ['wasm', 'wasm'],
      ['cpu', 'wasm', 'tensorflow', 'tensorflow-gpu', 'cpu'],
    ])
      rejects(validateWorkerHeartbeat({ ...heartbeat, backends_in_use: bad }), /^backends_in_use/);
  });

  it('worker heartbeats of any protocol version are read (hpo workers shows the version)', () => {
    for (const v of [1, PROTOCOL_VERSION, PROTOCOL_VERSION + 1]) {
      const r = validateWorkerHeartbeat({ ...heartbeat, v });
      assert.ok(r.ok && r.value.v === v);
    }
    for (const v of [0, '2', null, 1.5])
      rejects(validateWorkerHeartbeat({ ...heartbeat, v }), /^v: expected an integer/);
  });

  it('every number is bounded: timestamps near now and whole, seeds, attempts, counts, slots, sizes (issue 24)', () => {
    const DAY = 24 * 3600 * 1000;
    for (const [field, bad] of [
      ['started_at', 1e300],
      ['started_at', 1],
      ['started_at', NOW + 0.5],
      ['started_at', -NOW],
      ['ended_at', NOW + 2 * DAY],
      ['ended_at', 1e300],
    ] as const) {
      rejects(
        validateResultEvent({ ...result, [field]: bad }),
        new RegExp(`^${field}: expected a time in integer epoch ms between`),
      );
    }
    assert.ok(validateResultEvent({ ...result, started_at: NOW - 300 * DAY, ended_at: NOW + 3600_000 }).ok);
    for (const field of ['started_at', 'sent_at']) {
      for (const bad of [1e300, -1e300, 8.64e15 + 1, NOW + 0.25]) {
        rejects(
          validateWorkerHeartbeat({ ...heartbeat, [field]: bad }),
          new RegExp(`^${field}: expected a time`),
        );
      }
    }
    for (const seed of [-1, 2 ** 32, 1.5, Number.MAX_SAFE_INTEGER]) {
      rejects(validateTrialSpec({ ...spec, seed }), /^seed: expected an integer between 0 and 4294967295/);
      rejects(validateTrialSpec({ ...spec, data: { seed } }), /^data\.seed: expected an integer between 0/);
    }
    rejects(
      validateTrialSpec({ ...spec, attempt: 1_000_001 }),
      /^attempt: expected an integer in 1\.\.1000000/,
    );
    rejects(validateResultEvent({ ...result, attempt: 2 ** 53 - 1 }), /^attempt: /);
    rejects(validateEpochEvent({ ...epoch, attempt: 1e9 }), /^attempt: /);
    rejects(validateStartedEvent({ ...epoch, attempt: 1e9 }), /^attempt: /);
    rejects(
      validateWorkerHeartbeat({ ...heartbeat, slots: 10_001 }),
      /^slots: expected an integer in 0\.\.10000/,
    );
    rejects(validateWorkerHeartbeat({ ...heartbeat, busy: 1e12 }), /^busy: /);
    rejects(validateWorkerHeartbeat({ ...heartbeat, v: 1e12 }), /^v: /);
    const refusal = validators.find(([n]) => n === 'refusal')![2];
    rejects(
      validateRefusalEvent({ ...refusal, refusals: 1e7 }),
      /^refusals: expected an integer in 1\.\.1000000/,
    );
    rejects(
      validateResultEvent({
        ...result,
        model: { path: '/m', files: [{ name: 'model.json', size: 2 ** 41, sha256: 'ab'.repeat(32) }] },
      }),
      /^model\.files\[0\]\.size: expected an integer in 0\.\.1099511627776/,
    );
  });

  it('bus ids and tokens: only [A-Za-z0-9_-]; epochs bounded; save_model is a flag, never a path', () => {
    for (const id of ['a.b', 'a b', '*', '>', '', 'x'.repeat(65), 'é']) {
      rejects(validateTrialSpec({ ...spec, experiment_id: id }), /^experiment_id: expected 1-64 characters/);
      rejects(
        validateCancel({ v: PROTOCOL_VERSION, experiment: 'e', experiment_id: id }),
        /^experiment_id: /,
      );
    }
    for (const token of ['short', 'x'.repeat(129), 'has space in it!!!!!', 42]) {
      rejects(validateEpochEvent({ ...epoch, token }), /^token: expected a delivery token/);
    }
    const { token: _t, ...noToken } = result;
    rejects(validateResultEvent(noToken), /^token: expected a delivery token/);
    rejects(validateEpochEvent({ ...epoch, epoch: 4294967295 }), /^epoch: expected an integer in 1\.\.10000/);
    rejects(validateResultEvent({ ...result, epochs: 999999 }), /^epochs: expected an integer in 0\.\.10000/);
    rejects(validateTrialSpec({ ...spec, save_model: { dir: '/etc' } }), /^save_model: expected a boolean/);
    assert.match(newBusId(), /^[0-9a-f]{16}$/);
    assert.notEqual(newBusId(), newBusId());
    assert.ok(isBusId(newBusId()) && !isBusId('a.b'));
  });

  it("a result's final_epoch is the result's last epoch, its metrics checked like an epoch's; decisions is a flag", () => {
    const withFinal = {
      ...result,
      final_epoch: { epoch: result.epochs, metrics: { val_acc: 0.5, loss: null } },
    };
    const ok = validateResultEvent(withFinal);
    assert.ok(ok.ok);
    assert.equal(ok.value.final_epoch?.epoch, result.epochs);
    assert.ok(Number.isNaN(ok.value.final_epoch?.metrics.loss));
    rejects(
      validateResultEvent({ ...withFinal, final_epoch: { epoch: result.epochs + 1, metrics: {} } }),
      /^final_epoch\.epoch: expected the result's epochs/,
    );
    rejects(
      validateResultEvent({ ...withFinal, final_epoch: { epoch: result.epochs, metrics: { a: 'x' } } }),
      /^final_epoch\.metrics\.a: expected a number/,
    );
    rejects(validateResultEvent({ ...withFinal, final_epoch: 3 }), /^final_epoch: /);
    rejects(
      validateResultEvent({ ...withFinal, final_epoch: { epoch: 0, metrics: {} } }),
      /^final_epoch\.epoch: expected an integer in 1\.\.10000/,
    );
    const noAsk = validateTrialSpec({ ...spec, decisions: false });
    assert.ok(noAsk.ok && noAsk.value.decisions === false);
    rejects(validateTrialSpec({ ...spec, decisions: 'no' }), /^decisions: expected a boolean/);
  });

  it('rejects a payload over the size limit, empty payloads, bad UTF-8 and bad JSON with a reason', () => {
    const huge = encodeMessage({ ...spec, params: { blob: 'x'.repeat(MAX_MESSAGE_BYTES) } });
    rejects(parseMessage(huge, validateTrialSpec), /^payload: \d+ bytes exceeds the 1048576-byte limit/);
    rejects(decodeJson(new Uint8Array()), /^payload: empty/);
    rejects(decodeJson(new Uint8Array([0xff, 0xfe, 0x7b])), /^payload: not valid UTF-8/);
    rejects(decodeJson(new TextEncoder().encode('{"v":1,')), /^payload: not valid JSON/);
    rejects(validateTrialSpec('{"v":1}'), /^message: expected an object, got/);
  });

  it('checks nested fields and names their path', () => {
    rejects(
      validateTrialSpec({ ...spec, params: { lr: { nested: Number.NaN } } }),
      /^params\.lr: expected a finite number/,
    );
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = [deep];
    rejects(validateTrialSpec({ ...spec, params: { lr: deep } }), /^params\.lr: .*at most 16 deep/);
    // W&B sweep files allow null, lists and mappings as values: they travel as JSON.
    const rich = validateTrialSpec({ ...spec, params: { a: null, b: [1, 'x'], c: { d: [true] } } });
    assert.ok(rich.ok);
    assert.deepEqual(rich.value.params, { a: null, b: [1, 'x'], c: { d: [true] } });
    rejects(validateTrialSpec({ ...spec, params: { lr: Number.POSITIVE_INFINITY } }), /^params\.lr: /);
    rejects(validateTrialSpec({ ...spec, data: { seed: 'x' } }), /^data\.seed: expected an integer/);
    rejects(
      validateTrialSpec({ ...spec, data: { seed: 1, sha256: 5 } }),
      /^data\.sha256: expected a non-empty string/,
    );
    rejects(validateEpochEvent({ ...epoch, metrics: { acc: 'high' } }), /^metrics\.acc: expected a number/);
    rejects(
      validateTrialSpec({ ...spec, attempt: 0 }),
      /^attempt: expected an integer in 1\.\.1000000, got 0/,
    );
    rejects(
      validateTrialSpec({ ...spec, trial_id: 't1\nNats-Msg-Id: x' }),
      /^trial_id: expected a string without control/,
    );
    rejects(
      validateResultEvent({ ...result, state: 'running' }),
      /^state: expected one of completed, stopped, failed/,
    );
    rejects(
      validateDecisionReply({ v: PROTOCOL_VERSION, decision: 'pause' }),
      /^decision: expected one of continue, stop/,
    );
  });

  it('reads null metrics (JSON for NaN / Infinity) as NaN', () => {
    const wire = parseMessage(
      encodeMessage({ ...result, metrics: { loss: NaN, val_acc: 0.1 } }),
      validateResultEvent,
    );
    assert.ok(wire.ok);
    assert.ok(Number.isNaN(wire.value.metrics.loss));
    assert.equal(wire.value.metrics.val_acc, 0.1);
  });

  it('keeps __proto__ keys as plain data (no prototype pollution)', () => {
    const raw =
      `{"v":${PROTOCOL_VERSION},"experiment":"e","experiment_id":"e","token":"${TOKEN}","trial_id":"t","attempt":1,` +
      '"task":"synthetic","seed":1,"params":{"__proto__":{"polluted":1}}}';
    const v = parseMessage(new TextEncoder().encode(raw), validateTrialSpec);
    assert.ok(v.ok); // a mapping is a parameter value: an own key named __proto__, nothing polluted
    assert.deepEqual(Object.keys(v.value.params), ['__proto__']);
    assert.equal(Object.getPrototypeOf(v.value.params), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const ok = parseMessage(
      new TextEncoder().encode(raw.replace('{"polluted":1}', '"x"')),
      validateTrialSpec,
    );
    assert.ok(ok.ok);
    assert.equal(Object.getPrototypeOf(ok.value.params), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('names subjects, streams and message ids by the bus id; names only in query subjects, injectively', () => {
    const n = busNames();
    const id = spec.experiment_id;
    assert.equal(n.trialsStream, 'HPO_TRIALS');
    assert.equal(n.eventsStream, 'HPO_EVENTS');
    const route = taskRoute(spec.task, spec.task_sha256);
    assert.match(route, /^[0-9a-f]{32}$/);
    assert.equal(n.trialsSubject(id, route), `hpo.trials.${id}.${route}`);
    assert.equal(n.workersConsumer(route), `workers_${route}`);
    assert.equal(n.workersFilter(route), `hpo.trials.*.${route}`);
    assert.equal(n.eventsSubject(id, 'result'), `hpo.events.${id}.result`);
    assert.equal(n.eventsSubject(id, 'started'), `hpo.events.${id}.started`);
    assert.equal(n.eventsFilter(id), `hpo.events.${id}.>`);
    assert.equal(n.decideSubject(id), `hpo.decide.${id}`);
    assert.equal(n.orchestratorConsumer(id), `orch_${id}`);
    assert.equal(trialMsgId(spec), `${id}/t0001/1`);
    // Event ids end in a tag keyed by the delivery token: stable for one delivery (a retried publish is
    // a duplicate), different for another token, and not computable without it (a client without the
    // token cannot publish first under the id of a real event and have it dropped).
    assert.match(resultMsgId(result), new RegExp(`^${id}/t0001/1/result/[A-Za-z0-9_-]{22}$`));
    assert.equal(resultMsgId(result, 2), resultMsgId({ ...result }, 2));
    assert.notEqual(resultMsgId(result, 2), resultMsgId(result, 3));
    const other = { ...result, token: 'O'.repeat(22) };
    const ids = (r: typeof result) => [
      resultMsgId(r),
      resultMsgId(r, 1),
      epochMsgId({ ...r, epoch: 1 }),
      startedMsgId(r, 1),
      refusalMsgId({ ...r, seq: 5 }),
    ];
    const mine = ids(result);
    assert.equal(new Set(mine).size, mine.length);
    assert.deepEqual(
      ids(other).filter((x) => mine.includes(x)),
      [],
    );
    for (const x of mine) assert.ok(!x.endsWith('/result') && !x.endsWith('/d1'), x);
    // Without a token: a random tag (such an event is refused anyway; nothing to de-duplicate).
    const { token: _, ...bare } = result;
    assert.notEqual(resultMsgId(bare), resultMsgId(bare));
    // A name is never an address: anything but a bus id is refused.
    for (const bad of ['a.b', 'a b', 'x>', '*', 'é', 'a'.repeat(100)]) {
      assert.throws(() => n.trialsSubject(bad, route), /invalid experiment id/);
    }
    // A task route is 32 hex digits, never a name or a path, in every name built from it.
    for (const bad of [
      '',
      'ABCDEF',
      route.toUpperCase(),
      `${route}0`,
      '../x',
      'a.b',
      '*',
      '>',
      route.slice(1),
    ]) {
      assert.throws(() => n.trialsSubject(id, bad), /invalid task route/);
      assert.throws(() => n.workersConsumer(bad), /invalid task route/);
      assert.throws(() => n.workersFilter(bad), /invalid task route/);
    }
    // Query subjects carry the name, encoded injectively: `a.b` and the token it becomes never collide.
    assert.equal(n.querySubject('exp-1'), 'hpo.query.exp-1');
    const names = ['a.b', 'a_2Eb', 'a_b', 'a__b', 'a b', 'a_20b', 'é', '_C3_A9', 'x>', '*', 'a'.repeat(100)];
    const tokens = names.map(nameToken);
    assert.equal(new Set(tokens).size, names.length, tokens.join(' '));
    for (const t of tokens) assert.match(t, /^[A-Za-z0-9_-]+$/);
    assert.equal(busNames('team.hpo').trialsStream, 'TEAM_HPO_TRIALS');
    assert.throws(() => busNames('bad prefix'), /invalid subject prefix/);
  });
});
