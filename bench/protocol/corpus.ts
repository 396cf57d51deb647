/**
 * Old against new validator on one corpus: valid messages of every kind (samples.ts) and, for each, a
 * copy with one field (top-level or nested) removed or replaced by a value from a list of bad and edge
 * values. Two validators agree on a message when both accept it with equal copies (NaN equal to NaN), or
 * both refuse it naming the same field (`tasks.0` and `tasks[0]` are the same field).
 */
import { isDeepStrictEqual } from 'node:util';
import { Prng } from '../../shared/prng.js';
import type { Validation } from '../../shared/protocol/validate.js';
import * as samples from './samples.js';

type Msg = Record<string, unknown>;
export type Validators = Record<string, (input: unknown, now?: number) => Validation<unknown>>;

const DAY = 24 * 3600 * 1000;

function deep(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

/** Bad and edge values: wrong types, lengths and ranges at and past each bound, control characters. */
function edgeValues(now: number): unknown[] {
  const many = (n: number, v: unknown) => Array<unknown>(n).fill(v);
  const entries = (n: number) => Object.fromEntries(many(n, 0).map((_, i) => [`k${i}`, 1]));
  return [
    ...[null, true, false, 0, -1, 1, 1.5, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 40 + 1, 2 ** 53, 1e300, -1e300],
    ...[NaN, Infinity, -Infinity, 10_000, 10_001, 1_000_000, 1_000_001, 10 ** 20],
    ...[now, now - 11 * 366 * DAY, now - 9 * 365 * DAY, now + 2 * DAY, now + DAY / 2, now + 0.5],
    ...['', 'x', 'a.b', '*', '>', 'é', '💥', 'a\nb', 'a\u007f', 'a\u0000b', '../etc/passwd'],
    ...[15, 16, 64, 65, 128, 129, 256, 257, 4096, 4097, 20_000].map((n) => 'x'.repeat(n)),
    ...['ab'.repeat(32), 'AB'.repeat(32), 'ab'.repeat(31), '0'.repeat(32), 'A'.repeat(32)],
    ...['completed', 'running', 'stop', 'pause', 'auto', 'wasm', 'webgpu', 'model.json', 'x.bin'],
    ...[
      [],
      [1],
      ['wasm', 'wasm'],
      ['wasm', 'cpu'],
      ['auto'],
      many(5, 'cpu'),
      many(101, 'x'),
      many(111, '0'.repeat(32)),
    ],
    ...[{}, { a: 1 }, { a: null }, { a: 'x' }, { a: NaN }, { 'a\nb': 1 }, entries(1000), entries(1001)],
    ...[deep(16), deep(17), many(1001, 1), { seed: 1 }, { seed: 'x' }, { epoch: 1, metrics: {} }],
    ...[{ path: '/m' }, { path: '' }, { path: '/m', files: [] }, { path: '/m', files: many(4, {}) }],
  ];
}

/** Paths of a message worth breaking: each field, one level into nested objects, and a new field. */
function paths(msg: Msg): string[][] {
  const out: string[][] = [['extra_field']];
  for (const [key, value] of Object.entries(msg)) {
    out.push([key]);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const inner of Object.keys(value)) out.push([key, inner]);
      out.push([key, 'new_key']);
    }
    if (Array.isArray(value) && value.length > 0) out.push([key, '0']);
  }
  if (Array.isArray((msg.model as Msg | undefined)?.files)) out.push(['model', 'files', '1', 'size']);
  return out;
}

/** A deep copy of `msg` with the value at `path` replaced (or removed when `value` is undefined). */
function broken(msg: Msg, path: string[], value: unknown): Msg {
  const copy = structuredClone(msg);
  let here: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) here = here[key] as Record<string, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete here[last];
  else here[last] = value;
  return copy;
}

const field = (error: string): string => error.split(': ')[0].replace(/\.(\d+)(?=\.|$|\[)/g, '[$1]');

export interface Agreement {
  messages: number;
  accepted: number;
  agree: number;
  /** Up to 20 disagreements: kind, message, old and new outcome. */
  differ: { kind: string; message: string; old: string; new: string }[];
  differences: number;
}

function outcome(v: Validation<unknown>): string {
  return v.ok ? 'ok' : v.error;
}

function agreeOn(a: Validation<unknown>, b: Validation<unknown>): boolean {
  if (a.ok && b.ok) return isDeepStrictEqual(a.value, b.value);
  return !a.ok && !b.ok && field(a.error) === field(b.error);
}

const KINDS: [string, (rng: Prng, now: number) => Msg][] = Object.entries({
  validateTrialSpec: samples.trialSpec,
  validateEpochEvent: samples.epochEvent,
  validateResultEvent: samples.resultEvent,
  validateRefusalEvent: samples.refusalEvent,
  validateStartedEvent: samples.startedEvent,
  validateWorkerHeartbeat: samples.workerHeartbeat,
  validateDecisionReply: samples.decisionReply,
  validateCancel: samples.cancelMessage,
});

/** Runs both validators over `perKind` valid messages of each kind and their broken copies. */
export function compareValidators(
  older: Validators,
  newer: Validators,
  perKind: number,
  seed = 1,
): Agreement {
  const rng = new Prng(seed);
  const now = Date.now();
  const edges = [undefined, ...edgeValues(now)];
  const result: Agreement = { messages: 0, accepted: 0, agree: 0, differ: [], differences: 0 };
  for (const [kind, sample] of KINDS) {
    for (let i = 0; i < perKind; i++) {
      const valid = sample(rng, now);
      const candidates = paths(valid);
      const path = candidates[rng.below(candidates.length)];
      for (const msg of [valid, broken(valid, path, edges[rng.below(edges.length)])]) {
        const a = older[kind](msg, now);
        const b = newer[kind](msg, now);
        result.messages++;
        if (b.ok) result.accepted++;
        if (agreeOn(a, b)) result.agree++;
        else if (result.differences++ < 20)
          result.differ.push({
            kind,
            message: JSON.stringify(msg).slice(0, 300),
            old: outcome(a),
            new: outcome(b),
          });
      }
    }
  }
  return result;
}
