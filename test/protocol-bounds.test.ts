/**
 * Every bound the bus review relies on, one row each: a valid message passes, and the same message with
 * exactly that bound broken is refused, naming the field. Rows at a bound (the longest name, the highest
 * attempt) pass. A bound dropped from a schema (shared/protocol/schema/) fails its row.
 */
import assert from 'node:assert/strict';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import {
  type Validation,
  validateCancel,
  validateDecisionReply,
  validateEpochEvent,
  validateRefusalEvent,
  validateResultEvent,
  validateStartedEvent,
  validateTrialSpec,
  validateWorkerHeartbeat,
} from '../shared/protocol/validate.js';
import * as schemas from '../shared/protocol/schema/index.js';

type Msg = Record<string, unknown>;
const NOW = Date.now();
const DAY = 24 * 3600 * 1000;
const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv';
const SHA = 'ab'.repeat(32);
const x = (n: number) => 'x'.repeat(n);
const many = (n: number, v: unknown) => Array<unknown>(n).fill(v);
const entries = (n: number) => Object.fromEntries(many(n, 0).map((_, i) => [`k${i}`, i]));
function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

const delivery = {
  v: PROTOCOL_VERSION,
  experiment: 'exp-1',
  experiment_id: 'a1b2c3d4e5f60718',
  token: TOKEN,
  trial_id: 't0001',
  attempt: 1,
};
const files = ['model.json', 'weights.bin', 'hpo-model.json'].map((name) => ({
  name,
  size: 10,
  sha256: SHA,
}));
const valid = {
  spec: { ...delivery, task: 'synthetic', params: { lr: 0.1 }, seed: 1, data: { seed: 2, sha256: 'd' } },
  epoch: { ...delivery, epoch: 1, metrics: { acc: 0.5 }, worker: 'w' },
  result: {
    ...delivery,
    state: 'completed',
    metrics: { acc: 0.5 },
    epochs: 2,
    worker: 'w',
    started_at: NOW - 1000,
    ended_at: NOW,
    model: { path: '/m/e/t', files },
    final_epoch: { epoch: 2, metrics: { acc: 0.5 } },
  },
  refusal: { ...delivery, worker: 'w', reason: 'data differs', refusals: 1, seq: 1 },
  started: { ...delivery, worker: 'w' },
  heartbeat: {
    v: PROTOCOL_VERSION,
    name: 'w',
    slots: 1,
    busy: 0,
    trials_done: 0,
    started_at: NOW - 1000,
    sent_at: NOW,
    draining: false,
    invalid_messages: 0,
    backend: 'auto',
    backends_in_use: ['wasm'],
    tasks: ['quad@0123456789ab'],
    routes: ['0'.repeat(32)],
  },
  reply: { v: PROTOCOL_VERSION, decision: 'stop' },
  cancel: { v: PROTOCOL_VERSION, experiment: 'e', experiment_id: 'a1b2', trial_id: 't1' },
};
type Kind = keyof typeof valid;
const validators: Record<Kind, (input: unknown) => Validation<object>> = {
  spec: validateTrialSpec,
  epoch: validateEpochEvent,
  result: (m) => validateResultEvent(m, NOW),
  refusal: validateRefusalEvent,
  started: validateStartedEvent,
  heartbeat: (m) => validateWorkerHeartbeat(m, NOW),
  reply: validateDecisionReply,
  cancel: validateCancel,
};

/** A deep copy of `msg` with `path` (dot-separated) set to `value`, or removed for undefined. */
function broken(msg: Msg, path: string, value: unknown): Msg {
  const copy = structuredClone(msg);
  const keys = path.split('.');
  let here = copy;
  for (const key of keys.slice(0, -1)) here = here[key] as Msg;
  if (value === undefined) delete here[keys[keys.length - 1]];
  else here[keys[keys.length - 1]] = value;
  return copy;
}

const GONE = undefined;
/** Kind, field path, value, and the error it must give (a pattern), or 'ok' at the bound. */
const rows: [Kind, string, unknown, RegExp | 'ok'][] = [
  // Names: non-empty, at most 256 UTF-16 units, no control character.
  ['spec', 'experiment', x(256), 'ok'],
  ['spec', 'experiment', x(257), /^experiment: expected at most 256 characters/],
  ['spec', 'experiment', '💥'.repeat(129), /^experiment: expected at most 256/],
  ['spec', 'experiment', '', /^experiment: expected a non-empty string/],
  ['spec', 'trial_id', 't1\nNats-Msg-Id: x', /^trial_id: expected a string without control/],
  ['spec', 'trial_id', 't\u007f', /^trial_id: expected a string without control/],
  ['spec', 'task', x(257), /^task: /],
  ['spec', 'task', GONE, /^task: expected a non-empty string, got nothing/],
  ['epoch', 'worker', x(257), /^worker: /],
  ['result', 'backend', x(257), /^backend: /],
  ['cancel', 'trial_id', x(257), /^trial_id: /],
  ['spec', 'data.sha256', x(257), /^data\.sha256: /],
  // Bus ids and tokens: [A-Za-z0-9_-], 1-64 and 16-128 long; the token required on the bus.
  ['spec', 'experiment_id', x(64), 'ok'],
  ['spec', 'experiment_id', x(65), /^experiment_id: expected 1-64 characters/],
  ['spec', 'experiment_id', '', /^experiment_id: /],
  ['spec', 'experiment_id', 'a.b', /^experiment_id: /],
  ['cancel', 'experiment_id', '>', /^experiment_id: /],
  ['spec', 'token', x(16), 'ok'],
  ['spec', 'token', x(15), /^token: expected a delivery token/],
  ['spec', 'token', x(129), /^token: expected a delivery token/],
  ['spec', 'token', `${x(20)} `, /^token: /],
  ['spec', 'token', GONE, /^token: expected a delivery token/],
  ['epoch', 'token', GONE, /^token: /],
  ['result', 'token', GONE, /^token: /],
  ['refusal', 'token', GONE, /^token: /],
  ['started', 'token', GONE, /^token: /],
  // Protocol version: exactly this one (a heartbeat: any integer in 1..1000000).
  ['spec', 'v', PROTOCOL_VERSION + 1, /^v: unsupported protocol version/],
  ['reply', 'v', PROTOCOL_VERSION - 1, /^v: unsupported protocol version/],
  ['result', 'v', GONE, /^v: expected protocol version/],
  ['heartbeat', 'v', 1_000_000, 'ok'],
  ['heartbeat', 'v', 1_000_001, /^v: expected an integer in 1\.\.1000000/],
  ['heartbeat', 'v', 1.5, /^v: /],
  // Whole numbers in ranges.
  ['spec', 'attempt', 1_000_000, 'ok'],
  ['spec', 'attempt', 1_000_001, /^attempt: expected an integer in 1\.\.1000000/],
  ['spec', 'attempt', 0, /^attempt: /],
  ['spec', 'attempt', 1.5, /^attempt: /],
  ['spec', 'attempt', '1', /^attempt: /],
  ['spec', 'seed', 2 ** 32 - 1, 'ok'],
  ['spec', 'seed', 2 ** 32, /^seed: expected an integer between 0 and 4294967295/],
  ['spec', 'seed', -1, /^seed: /],
  ['spec', 'data.seed', 0.5, /^data\.seed: /],
  ['epoch', 'epoch', 10_000, 'ok'],
  ['epoch', 'epoch', 10_001, /^epoch: expected an integer in 1\.\.10000/],
  ['epoch', 'epoch', 0, /^epoch: /],
  ['result', 'epochs', -1, /^epochs: expected an integer in 0\.\.10000/],
  ['result', 'epochs', 10_001, /^epochs: /],
  ['result', 'final_epoch.epoch', 0, /^final_epoch\.epoch: expected an integer in 1\.\.10000/],
  ['refusal', 'refusals', 1_000_001, /^refusals: expected an integer in 1\.\.1000000/],
  ['refusal', 'refusals', 0, /^refusals: /],
  ['refusal', 'seq', Number.MAX_SAFE_INTEGER, 'ok'],
  ['refusal', 'seq', 2 ** 53, /^seq: /],
  ['refusal', 'seq', 0, /^seq: /],
  ['heartbeat', 'slots', 10_000, 'ok'],
  ['heartbeat', 'slots', 10_001, /^slots: expected an integer in 0\.\.10000/],
  ['heartbeat', 'busy', -1, /^busy: /],
  ['heartbeat', 'trials_done', 2 ** 53, /^trials_done: expected an integer >= 0/],
  ['heartbeat', 'invalid_messages', -1, /^invalid_messages: /],
  ['result', 'model.files.0.size', 2 ** 40, 'ok'],
  [
    'result',
    'model.files.0.size',
    2 ** 40 + 1,
    /^model\.files\[0\]\.size: expected an integer in 0\.\.1099511627776/,
  ],
  ['result', 'model.files.0.size', -1, /^model\.files\[0\]\.size: /],
  // Timestamps: integer epoch ms within 10 years before and a day after the receiver's clock.
  ['result', 'started_at', NOW - 9 * 366 * DAY, 'ok'],
  ['result', 'started_at', NOW - 11 * 366 * DAY, /^started_at: expected a time in integer epoch ms between/],
  ['result', 'ended_at', NOW + 2 * DAY, /^ended_at: expected a time in integer epoch ms between/],
  ['result', 'ended_at', NOW + 0.5, /^ended_at: expected a time/],
  ['result', 'started_at', 1e300, /^started_at: expected a time/],
  ['heartbeat', 'started_at', NOW - 11 * 366 * DAY, /^started_at: expected a time/],
  ['heartbeat', 'sent_at', NOW + 2 * DAY, /^sent_at: expected a time/],
  // Enumerations.
  ['result', 'state', 'running', /^state: expected one of completed, stopped, failed/],
  ['reply', 'decision', 'pause', /^decision: expected one of continue, stop/],
  ['heartbeat', 'backend', 'webgpu', /^backend: expected one of auto, /],
  ['heartbeat', 'backends_in_use', ['auto'], /^backends_in_use\[0\]: expected one of tensorflow-gpu, /],
  ['result', 'model.files.0.name', '../x', /^model\.files\[0\]\.name: expected one of model\.json, /],
  // Digests and routes.
  ['spec', 'task_sha256', SHA, 'ok'],
  ['spec', 'task_sha256', 'AB'.repeat(32), /^task_sha256: expected 64 lowercase hex digits/],
  ['spec', 'task_sha256', 'ab'.repeat(31), /^task_sha256: /],
  ['result', 'model.files.0.sha256', 'ab'.repeat(33), /^model\.files\[0\]\.sha256: /],
  ['heartbeat', 'routes.0', 'A'.repeat(32), /^routes\[0\]: expected a task route/],
  // Sizes of lists and mappings.
  ['spec', 'params', entries(1000), 'ok'],
  ['spec', 'params', entries(1001), /^params: expected at most 1000 entries, got "1001"/],
  ['epoch', 'metrics', entries(1001), /^metrics: expected at most 1000 entries/],
  ['result', 'final_epoch.metrics', entries(1001), /^final_epoch\.metrics: expected at most 1000/],
  ['spec', 'params.lr', many(1000, 1), 'ok'],
  ['spec', 'params.lr', many(1001, 1), /^params\.lr: expected a finite number, .*at most 16 deep/],
  ['spec', 'params.lr', { m: entries(1001) }, /^params\.lr: /],
  ['result', 'model.files', [...files, files[0]], /^model\.files: expected an array of at most 3 files/],
  ['heartbeat', 'backends_in_use', ['wasm', 'wasm'], /^backends_in_use: expected distinct backend names/],
  [
    'heartbeat',
    'backends_in_use',
    ['cpu', 'wasm', 'tensorflow', 'tensorflow-gpu', 'cpu'],
    /^backends_in_use: /,
  ],
  ['heartbeat', 'tasks', many(100, 'x'), 'ok'],
  ['heartbeat', 'tasks', many(101, 'x'), /^tasks: expected a list of at most 100 names/],
  ['heartbeat', 'tasks', ['a\nb'], /^tasks\[0\]: expected a string without control/],
  ['heartbeat', 'routes', many(111, '0'.repeat(32)), /^routes: expected a list of at most 110 task routes/],
  // Parameter values: finite numbers, strings, booleans, null, lists and mappings at most 16 deep.
  ['spec', 'params.lr', nested(16), 'ok'],
  ['spec', 'params.lr', nested(17), /^params\.lr: .*at most 16 deep/],
  ['spec', 'params.lr', Number.NaN, /^params\.lr: expected a finite number/],
  ['spec', 'params.lr', Number.NEGATIVE_INFINITY, /^params\.lr: expected a finite number/],
  ['spec', 'params.lr', { a: [Number.POSITIVE_INFINITY] }, /^params\.lr: expected a finite number/],
  // Metrics: numbers (null reads as NaN).
  ['epoch', 'metrics.acc', 'high', /^metrics\.acc: expected a number/],
  ['result', 'final_epoch.metrics.acc', true, /^final_epoch\.metrics\.acc: expected a number/],
  // Paths: only model.path, 1-4096 characters without NUL, never used as an address by the receiver.
  ['result', 'model.path', x(4096), 'ok'],
  ['result', 'model.path', x(4097), /^model\.path: expected a path of 1-4096 characters/],
  ['result', 'model.path', '', /^model\.path: /],
  ['result', 'model.path', '/m\u0000/x', /^model\.path: /],
  // Types of flags and texts.
  ['spec', 'save_model', '/etc', /^save_model: expected a boolean/],
  ['spec', 'decisions', 0, /^decisions: expected a boolean/],
  ['heartbeat', 'draining', 'no', /^draining: expected a boolean/],
  ['refusal', 'reason', 5, /^reason: expected a string/],
  ['result', 'model.not_sent', {}, /^model\.not_sent: expected a string/],
  // Across fields (after the schema): the final epoch is the result's last.
  ['result', 'final_epoch.epoch', 1, /^final_epoch\.epoch: expected the result's epochs \(2\)/],
];

describe('protocol bounds: each bound of each wire message, broken alone', () => {
  for (const kind of Object.keys(valid) as Kind[]) {
    it(`a valid ${kind} passes`, () => {
      const v = validators[kind](valid[kind]);
      assert.ok(v.ok, v.ok ? '' : v.error);
    });
  }

  for (const [kind, path, value, expected] of rows) {
    const json = JSON.stringify(value) ?? 'nothing';
    const shown = json.length > 40 ? `${json.slice(0, 40)}… (${json.length} characters of JSON)` : json;
    it(`${kind}.${path} = ${shown}: ${expected === 'ok' ? 'passes (at the bound)' : 'refused'}`, () => {
      const v = validators[kind](broken(valid[kind], path, value));
      if (expected === 'ok') assert.ok(v.ok, v.ok ? '' : v.error);
      else {
        assert.equal(v.ok, false, `${kind}.${path} = ${shown} passed`);
        if (!v.ok) assert.match(v.error, expected);
      }
    });
  }

  it('free text is cut to 16384 characters, never refused', () => {
    const v = validateResultEvent({ ...valid.result, error: x(20_000) }, NOW);
    assert.ok(v.ok && v.value.error === `${x(16 * 1024)}…`);
    const r = validateRefusalEvent({ ...valid.refusal, reason: x(20_000) });
    assert.ok(r.ok && r.value.reason.length === 16 * 1024 + 1);
  });

  it('a field a message names beyond its schema (a command, a module, a path) is never passed on', () => {
    for (const kind of Object.keys(valid) as Kind[]) {
      const v = validators[kind]({ ...valid[kind], command: 'rm -rf /', module: '/x.js', path: '/etc' });
      assert.ok(v.ok && !('command' in v.value) && !('module' in v.value) && !('path' in v.value), kind);
    }
  });

  it('no schema has a field naming a path, a module or a command but the result model.path', () => {
    const found: string[] = [];
    const walk = (schema: unknown, at: string) => {
      if (typeof schema !== 'object' || schema === null) return;
      for (const [key, inner] of Object.entries(schema)) {
        const here = key === 'properties' ? at : `${at}.${key}`;
        if (key === 'properties') {
          for (const [name, s] of Object.entries(inner as Msg)) {
            if (/path|module|command|program|script|file|dir|cwd|exec/i.test(name))
              found.push(`${at}.${name}`);
            walk(s, `${at}.${name}`);
          }
        } else walk(inner, here);
      }
    };
    for (const [name, schema] of Object.entries(schemas)) if (name.endsWith('Schema')) walk(schema, name);
    const allowed = ['ResultEventSchema.model.path', 'ResultEventSchema.model.files'];
    assert.deepEqual(
      found.filter((f) => !allowed.includes(f)),
      [],
    );
  });
});
