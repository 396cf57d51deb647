/**
 * Valid wire messages of every kind, varied by a seeded PRNG (names, lengths, optional fields, numbers
 * near their bounds): the base of the corpus (corpus.ts) and of the speed figures (bench-protocol.ts).
 */
import { Prng } from '../../shared/prng.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';

type Msg = Record<string, unknown>;

const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

function chars(rng: Prng, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.below(alphabet.length)];
  return s;
}

const hex = (rng: Prng, n: number): string => chars(rng, '0123456789abcdef', n);
const pick = <T>(rng: Prng, list: readonly T[]): T => list[rng.below(list.length)];
const maybe = (rng: Prng): boolean => rng.below(2) === 0;

function delivery(rng: Prng): Msg {
  return {
    v: PROTOCOL_VERSION,
    experiment: pick(rng, ['exp-1', 'mnist sweep', 'é-ü', 'x'.repeat(256)]),
    experiment_id: chars(rng, TOKEN_CHARS, 1 + rng.below(64)),
    token: chars(rng, TOKEN_CHARS, 16 + rng.below(113)),
    trial_id: `t${String(rng.below(10_000)).padStart(4, '0')}`,
    attempt: 1 + rng.below(1_000_000),
  };
}

function metrics(rng: Prng): Msg {
  const out: Msg = {};
  for (const key of ['val_acc', 'loss', 'val_loss', 'test_acc'].slice(0, 1 + rng.below(4)))
    out[key] = pick(rng, [0.5, 1e-9, -3, 0, null, 1e300]);
  return out;
}

export function trialSpec(rng: Prng): Msg {
  const spec: Msg = {
    ...delivery(rng),
    task: pick(rng, ['synthetic', 'multi-digit-mnist', 'quad']),
    params: {
      lr: 0.001 * (1 + rng.below(100)),
      optimizer: pick(rng, ['adam', 'sgd']),
      batchnorm: maybe(rng),
      epochs: 1 + rng.below(20),
      layers: [64, 32],
      extra: { a: null, b: [[1, 'x'], { c: true }] },
    },
    seed: rng.nextUint32(),
  };
  if (maybe(rng)) spec.task_sha256 = hex(rng, 64);
  if (maybe(rng)) spec.data = maybe(rng) ? { seed: rng.nextUint32() } : { seed: 7, sha256: hex(rng, 64) };
  if (maybe(rng)) spec.save_model = maybe(rng);
  if (maybe(rng)) spec.decisions = maybe(rng);
  return spec;
}

export function epochEvent(rng: Prng): Msg {
  return { ...delivery(rng), epoch: 1 + rng.below(10_000), metrics: metrics(rng), worker: 'host:1' };
}

export function resultEvent(rng: Prng, now: number): Msg {
  const epochs = rng.below(10_001);
  const result: Msg = {
    ...delivery(rng),
    state: pick(rng, ['completed', 'stopped', 'failed']),
    metrics: metrics(rng),
    epochs,
    worker: 'host:1',
    started_at: now - 1 - rng.below(1_000_000),
    ended_at: now - rng.below(1000),
  };
  if (maybe(rng)) result.error = maybe(rng) ? 'Error: boom' : 'e'.repeat(20_000);
  if (maybe(rng)) result.backend = 'wasm';
  if (maybe(rng)) {
    const files = ['model.json', 'weights.bin', 'hpo-model.json'].map((name) => ({
      name,
      size: rng.below(1_000_000),
      sha256: hex(rng, 64),
    }));
    result.model = maybe(rng) ? { path: '/models/x/t1', files } : { path: '/m', not_sent: 'too big' };
  }
  if (epochs >= 1 && maybe(rng)) result.final_epoch = { epoch: epochs, metrics: metrics(rng) };
  return result;
}

export function refusalEvent(rng: Prng): Msg {
  return {
    ...delivery(rng),
    worker: 'w',
    reason: 'data set sha256 mismatch',
    refusals: 1 + rng.below(1_000_000),
    seq: 1 + rng.nextUint32() * 256,
  };
}

export function startedEvent(rng: Prng): Msg {
  return { ...delivery(rng), worker: 'w' };
}

export function workerHeartbeat(rng: Prng, now: number): Msg {
  const hb: Msg = {
    v: 1 + rng.below(PROTOCOL_VERSION + 1),
    name: 'host:42',
    slots: rng.below(10_001),
    busy: rng.below(10_001),
    trials_done: rng.below(1e9),
    started_at: now - rng.below(1e9),
    sent_at: now - rng.below(1000),
    draining: maybe(rng),
    invalid_messages: rng.below(100),
  };
  if (maybe(rng)) hb.backend = pick(rng, ['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu']);
  if (maybe(rng)) hb.backends_in_use = pick(rng, [[], ['wasm'], ['wasm', 'tensorflow']]);
  if (maybe(rng)) hb.tasks = ['quad@0123456789ab', 'x'.repeat(256)].slice(0, rng.below(3));
  if (maybe(rng)) hb.routes = [hex(rng, 32), hex(rng, 32)];
  return hb;
}

export function decisionReply(rng: Prng): Msg {
  return { v: PROTOCOL_VERSION, decision: pick(rng, ['continue', 'stop']) };
}

export function cancelMessage(rng: Prng): Msg {
  const msg: Msg = { v: PROTOCOL_VERSION, experiment: 'exp-1', experiment_id: chars(rng, TOKEN_CHARS, 8) };
  if (maybe(rng)) msg.trial_id = 't0001';
  return msg;
}
