/**
 * Validation of every message received over the bus. Nothing that arrives from the network is trusted:
 * each validator checks the protocol version and every field's type, and returns either a fresh object
 * holding only the known fields or an error naming the first bad field
 * (e.g. `trial_id: expected a non-empty string`). Validators never throw.
 *
 * JSON cannot carry NaN or ±Infinity (JSON.stringify writes null), so a metric that is `null` on the
 * wire is read back as NaN: a diverged loss is a valid metric, not an invalid message.
 */
import {
  type CancelMessage,
  type DecisionReply,
  type RefusalEvent,
  type StartedEvent,
  type WorkerHeartbeat,
  isBusId,
  isTaskRoute,
} from './bus.js';
import {
  type Decision,
  type EpochEvent,
  type FinalState,
  MAX_TRIAL_EPOCHS,
  PROTOCOL_VERSION,
  type ResultEvent,
  MAX_VALUE_DEPTH,
  type ParamValue,
  type TrialParams,
  type TrialSpec,
} from './trial.js';
import { MODEL_FILES } from './model-transfer.js';
import { BACKEND_CHOICES, BACKEND_NAMES, type BackendName } from './backend-names.js';
import { isSeed, SEED_RANGE } from '../prng.js';

import { type Validation } from './wire.js';

export { decodeJson, encodeMessage, MAX_MESSAGE_BYTES, parseMessage, type Validation } from './wire.js';
/** Longest name (experiment, trial id, task, worker) accepted. */
export const MAX_NAME_LENGTH = 256;
/** Most parameters / metrics in one message. */
export const MAX_ENTRIES = 1000;
/** Longest error text kept in a result (longer ones are truncated, not rejected). */
export const MAX_ERROR_LENGTH = 16 * 1024;
/** Most task names in a heartbeat. */
export const MAX_HEARTBEAT_TASKS = 100;
/** Longest file path a message may carry (model.path). */
export const MAX_PATH_LENGTH = 4096;
/**
 * Bounds of the numbers on the wire (issue 24): nothing a sender writes may be out of what the store's
 * INTEGER columns, Date and the displays take. Timestamps (epoch ms, integers) lie within a window
 * around the receiver's clock: at most MAX_TIMESTAMP_AGE_MS before it, MAX_CLOCK_AHEAD_MS after it.
 */
export const MAX_TIMESTAMP_AGE_MS = 10 * 366 * 24 * 3600 * 1000;
/** How far ahead of the receiver's clock a sender's timestamp may be (clock skew). */
export const MAX_CLOCK_AHEAD_MS = 24 * 3600 * 1000;
/** Highest attempt number of a trial, refusal count, protocol version in a heartbeat. */
export const MAX_COUNT = 1_000_000;
/** Most executor slots a heartbeat may announce (and trials held). */
export const MAX_SLOTS = 10_000;
/** Largest model file a result may list (1 TiB: far over any --max-model-mb). */
export const MAX_FILE_BYTES = 2 ** 40;
/** A delivery token: 16-128 characters of [A-Za-z0-9_-] (the orchestrator mints 22). */
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** Thrown inside a validator to abort with a field error; never escapes this module. */
class FieldError extends Error {}

type Obj = Record<string, unknown>;

/** `fail(field, expected)`, or `fail(field, expected, value)` to say what came instead. */
function fail(field: string, expected: string, ...got: [unknown?]): never {
  throw new FieldError(
    `${field}: expected ${expected}${got.length === 0 ? '' : `, got ${describe(got[0])}`}`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: unknown, field: string): Obj {
  if (!isObject(value)) fail(field, 'an object', value);
  return value;
}

function version(o: Obj): typeof PROTOCOL_VERSION {
  const v = o.v;
  if (v === PROTOCOL_VERSION) return PROTOCOL_VERSION;
  if (v === undefined) fail('v', `protocol version ${PROTOCOL_VERSION}`, v);
  throw new FieldError(
    `v: unsupported protocol version ${describe(v)} (this build speaks ${PROTOCOL_VERSION})`,
  );
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A non-empty name without control characters (it ends up in subjects, headers, logs). */
function name(o: Obj, field: string, prefix = ''): string {
  const value = o[field];
  const path = prefix + field;
  if (typeof value !== 'string' || value.length === 0) fail(path, 'a non-empty string', value);
  if (value.length > MAX_NAME_LENGTH) fail(path, `at most ${MAX_NAME_LENGTH} characters`, value);
  if (hasControlCharacter(value)) fail(path, 'a string without control characters');
  return value;
}

/** An experiment id (isBusId): it names subjects and folders, so nothing else is accepted. */
function busId(o: Obj, field: string): string {
  const value = o[field];
  if (typeof value !== 'string' || !isBusId(value)) fail(field, '1-64 characters of [A-Za-z0-9_-]', value);
  return value;
}

function token(o: Obj, field: string): string {
  const value = o[field];
  if (typeof value !== 'string' || !TOKEN.test(value))
    fail(field, 'a delivery token (16-128 characters of [A-Za-z0-9_-])', value);
  return value;
}

function optionalName(o: Obj, field: string): string | undefined {
  return o[field] === undefined ? undefined : name(o, field);
}

/** A field that must be one of a few names (an enum on the wire). */
function oneOf<T extends string>(o: Obj, field: string, names: readonly T[], prefix = ''): T {
  const value = o[field];
  if (typeof value !== 'string' || !(names as readonly string[]).includes(value)) {
    fail(prefix + field, `one of ${names.join(', ')}`, value);
  }
  return value as T;
}

/** A list of distinct backend names (so at most one of each). */
function backendList(o: Obj, field: string): BackendName[] {
  const list = o[field];
  if (!Array.isArray(list) || list.length > BACKEND_NAMES.length) {
    fail(field, `a list of at most ${BACKEND_NAMES.length} backend names`, list);
  }
  const names = list.map((_, i) => oneOf(list as unknown as Obj, String(i), BACKEND_NAMES, `${field}.`));
  if (new Set(names).size !== names.length) fail(field, 'distinct backend names', list);
  return names;
}

/** A free text (an error, a reason): any string, cut to MAX_ERROR_LENGTH characters. */
function text(o: Obj, field: string, prefix = ''): string {
  const value = o[field];
  if (typeof value !== 'string') fail(prefix + field, 'a string', value);
  return value.length > MAX_ERROR_LENGTH ? `${value.slice(0, MAX_ERROR_LENGTH)}…` : value;
}

/** A sha256 digest: 64 lowercase hex digits. */
function sha256(o: Obj, field: string, prefix = ''): string {
  const value = o[field];
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
    fail(prefix + field, '64 lowercase hex digits', value);
  }
  return value;
}

function integer(o: Obj, field: string, min: number, prefix = '', max = Number.MAX_SAFE_INTEGER): number {
  const value = o[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(
      prefix + field,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`,
      value,
    );
  }
  return value;
}

/** A time in integer epoch ms within the window around now (MAX_TIMESTAMP_AGE_MS, MAX_CLOCK_AHEAD_MS). */
function timestamp(o: Obj, field: string, now: number): number {
  const value = o[field];
  const min = now - MAX_TIMESTAMP_AGE_MS;
  const max = now + MAX_CLOCK_AHEAD_MS;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(field, `a time in integer epoch ms between ${min} (10 years ago) and ${max} (a day ahead)`, value);
  }
  return value;
}

function seed(o: Obj, field: string, prefix = ''): number {
  const value = o[field];
  if (!isSeed(value)) fail(prefix + field, SEED_RANGE, value);
  return value;
}

function attempt(o: Obj): number {
  return integer(o, 'attempt', 1, '', MAX_COUNT);
}

function boolean(o: Obj, field: string): boolean {
  const value = o[field];
  if (typeof value !== 'boolean') fail(field, 'a boolean', value);
  return value;
}

function entries(value: unknown, field: string): [string, unknown][] {
  const o = object(value, field);
  const list = Object.entries(o);
  if (list.length > MAX_ENTRIES) fail(field, `at most ${MAX_ENTRIES} entries`, `${list.length}`);
  return list;
}

/** `field.key` for an error, with a long or unprintable key shortened (an error stays one short line). */
function keyPath(field: string, key: string): string {
  if (key.length <= 40 && !hasControlCharacter(key)) return `${field}.${key}`;
  const shown = JSON.stringify(key.slice(0, 40));
  return `${field}[${key.length > 40 ? `${shown}… (${key.length} characters)` : shown}]`;
}

/** A parameter value: finite number, string, boolean, null, or a list / mapping of them (bounded depth). */
function isParamValue(v: unknown, depth = 0): v is ParamValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (depth >= MAX_VALUE_DEPTH || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.length <= MAX_ENTRIES && v.every((x) => isParamValue(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  const list = Object.values(v as Obj);
  return list.length <= MAX_ENTRIES && list.every((x) => isParamValue(x, depth + 1));
}

function params(value: unknown): TrialParams {
  const out: TrialParams = {};
  for (const [key, v] of entries(value, 'params')) {
    if (isParamValue(v)) {
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    } else {
      fail(
        keyPath('params', key),
        `a finite number, string, boolean, null, or a list or mapping of them (at most ${MAX_VALUE_DEPTH} deep)`,
        v,
      );
    }
  }
  return out;
}

/** Metric values: numbers; null (JSON's NaN/Infinity) reads as NaN. */
function metrics(value: unknown, field = 'metrics'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, v] of entries(value, field)) {
    let n: number;
    if (typeof v === 'number') n = v;
    else if (v === null) n = NaN;
    else fail(keyPath(field, key), 'a number', v);
    Object.defineProperty(out, key, { value: n, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A file path: a non-empty string without NUL, at most MAX_PATH_LENGTH characters. */
function path(o: Obj, field: string, prefix = ''): string {
  const value = o[field];
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_PATH_LENGTH ||
    value.includes('\0')
  ) {
    fail(`${prefix}${field}`, `a path of 1-${MAX_PATH_LENGTH} characters`, value);
  }
  return value;
}

function run<T>(input: unknown, build: (o: Obj) => T): Validation<T> {
  try {
    return { ok: true, value: build(object(input, 'message')) };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, error: err.message };
    return { ok: false, error: `message: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export function validateTrialSpec(input: unknown): Validation<TrialSpec> {
  return run(input, (o) => {
    const spec: TrialSpec = {
      v: version(o),
      experiment: name(o, 'experiment'),
      experiment_id: busId(o, 'experiment_id'),
      token: token(o, 'token'),
      trial_id: name(o, 'trial_id'),
      attempt: attempt(o),
      task: name(o, 'task'),
      params: params(o.params),
      seed: seed(o, 'seed'),
    };
    if (o.task_sha256 !== undefined) spec.task_sha256 = sha256(o, 'task_sha256');
    if (o.data !== undefined) {
      const d = object(o.data, 'data');
      const data: { seed: number; sha256?: string } = {
        seed: seed(d, 'seed', 'data.'),
      };
      if (d.sha256 !== undefined) data.sha256 = name(d, 'sha256', 'data.');
      spec.data = data;
    }
    if (o.save_model !== undefined) spec.save_model = boolean(o, 'save_model');
    if (o.decisions !== undefined) spec.decisions = boolean(o, 'decisions');
    return spec;
  });
}

export function validateEpochEvent(input: unknown): Validation<EpochEvent> {
  return run(input, (o) => ({
    v: version(o),
    experiment: name(o, 'experiment'),
    experiment_id: busId(o, 'experiment_id'),
    token: token(o, 'token'),
    trial_id: name(o, 'trial_id'),
    attempt: attempt(o),
    epoch: integer(o, 'epoch', 1, '', MAX_TRIAL_EPOCHS),
    metrics: metrics(o.metrics),
    worker: name(o, 'worker'),
  }));
}

/** A decision request is the EpochEvent of the epoch that just ended. */
export const validateDecisionRequest = validateEpochEvent;

const FINAL_STATES: readonly FinalState[] = ['completed', 'stopped', 'failed'];

export function validateResultEvent(input: unknown, now = Date.now()): Validation<ResultEvent> {
  return run(input, (o) => {
    const state = o.state;
    if (typeof state !== 'string' || !(FINAL_STATES as readonly string[]).includes(state)) {
      fail('state', `one of ${FINAL_STATES.join(', ')}`, state);
    }
    const result: ResultEvent = {
      v: version(o),
      experiment: name(o, 'experiment'),
      experiment_id: busId(o, 'experiment_id'),
      token: token(o, 'token'),
      trial_id: name(o, 'trial_id'),
      attempt: attempt(o),
      state: state as FinalState,
      metrics: metrics(o.metrics),
      epochs: integer(o, 'epochs', 0, '', MAX_TRIAL_EPOCHS),
      worker: name(o, 'worker'),
      started_at: timestamp(o, 'started_at', now),
      ended_at: timestamp(o, 'ended_at', now),
    };
    if (o.error !== undefined) result.error = text(o, 'error');
    const backend = optionalName(o, 'backend');
    if (backend !== undefined) result.backend = backend;
    if (o.model !== undefined) result.model = model(object(o.model, 'model'));
    if (o.final_epoch !== undefined) {
      const e = object(o.final_epoch, 'final_epoch');
      const epoch = integer(e, 'epoch', 1, 'final_epoch.', MAX_TRIAL_EPOCHS);
      if (epoch !== result.epochs) fail('final_epoch.epoch', `the result's epochs (${result.epochs})`, epoch);
      result.final_epoch = { epoch, metrics: metrics(e.metrics, 'final_epoch.metrics') };
    }
    return result;
  });
}

/** A result's model: the worker's path, and over NATS the uploaded files or why they were not sent. */
function model(o: Obj): NonNullable<ResultEvent['model']> {
  const out: NonNullable<ResultEvent['model']> = { path: path(o, 'path', 'model.') };
  if (o.files !== undefined) {
    if (!Array.isArray(o.files) || o.files.length > MODEL_FILES.length) {
      fail('model.files', `an array of at most ${MODEL_FILES.length} files`, o.files);
    }
    out.files = o.files.map((f: unknown, i: number) => {
      const where = `model.files[${i}].`;
      const file = object(f, `model.files[${i}]`);
      const fileName = file.name;
      if (typeof fileName !== 'string' || !MODEL_FILES.includes(fileName)) {
        fail(`${where}name`, `one of ${MODEL_FILES.join(', ')}`, fileName);
      }
      return {
        name: fileName,
        size: integer(file, 'size', 0, where, MAX_FILE_BYTES),
        sha256: sha256(file, 'sha256', where),
      };
    });
  }
  if (o.not_sent !== undefined) out.not_sent = text(o, 'not_sent', 'model.');
  return out;
}

const DECISIONS: readonly Decision[] = ['continue', 'stop'];

export function validateDecisionReply(input: unknown): Validation<DecisionReply> {
  return run(input, (o) => {
    const v = version(o);
    const decision = o.decision;
    if (typeof decision !== 'string' || !(DECISIONS as readonly string[]).includes(decision)) {
      fail('decision', `one of ${DECISIONS.join(', ')}`, decision);
    }
    return { v, decision: decision as Decision };
  });
}

export function validateCancel(input: unknown): Validation<CancelMessage> {
  return run(input, (o) => {
    const msg: CancelMessage = {
      v: version(o),
      experiment: name(o, 'experiment'),
      experiment_id: busId(o, 'experiment_id'),
    };
    const trialId = optionalName(o, 'trial_id');
    if (trialId !== undefined) msg.trial_id = trialId;
    return msg;
  });
}

export function validateRefusalEvent(input: unknown): Validation<RefusalEvent> {
  return run(input, (o) => {
    return {
      v: version(o),
      experiment: name(o, 'experiment'),
      experiment_id: busId(o, 'experiment_id'),
      trial_id: name(o, 'trial_id'),
      attempt: attempt(o),
      token: token(o, 'token'),
      worker: name(o, 'worker'),
      reason: text(o, 'reason'),
      refusals: integer(o, 'refusals', 1, '', MAX_COUNT),
      seq: integer(o, 'seq', 1),
    };
  });
}

export function validateStartedEvent(input: unknown): Validation<StartedEvent> {
  return run(input, (o) => ({
    v: version(o),
    experiment: name(o, 'experiment'),
    experiment_id: busId(o, 'experiment_id'),
    token: token(o, 'token'),
    trial_id: name(o, 'trial_id'),
    attempt: attempt(o),
    worker: name(o, 'worker'),
  }));
}

/**
 * A heartbeat of any protocol version (v: an integer >= 1) is read: `hpo workers` shows which version
 * each worker speaks, so an incompatible one is visible instead of silently idle.
 */
export function validateWorkerHeartbeat(input: unknown, now = Date.now()): Validation<WorkerHeartbeat> {
  return run(input, (o) => {
    const hb: WorkerHeartbeat = {
      v: integer(o, 'v', 1, '', MAX_COUNT),
      name: name(o, 'name'),
      slots: integer(o, 'slots', 0, '', MAX_SLOTS),
      busy: integer(o, 'busy', 0, '', MAX_SLOTS),
      trials_done: integer(o, 'trials_done', 0),
      started_at: timestamp(o, 'started_at', now),
      sent_at: timestamp(o, 'sent_at', now),
      draining: boolean(o, 'draining'),
      invalid_messages: integer(o, 'invalid_messages', 0),
    };
    if (o.backend !== undefined) hb.backend = oneOf(o, 'backend', BACKEND_CHOICES);
    if (o.backends_in_use !== undefined) hb.backends_in_use = backendList(o, 'backends_in_use');
    if (o.tasks !== undefined) {
      if (!Array.isArray(o.tasks) || o.tasks.length > MAX_HEARTBEAT_TASKS) {
        fail('tasks', `a list of at most ${MAX_HEARTBEAT_TASKS} names`, o.tasks);
      }
      hb.tasks = o.tasks.map((_, i) => name(o.tasks as unknown as Obj, String(i), 'tasks.'));
    }
    if (o.routes !== undefined) {
      const routes = o.routes;
      if (!Array.isArray(routes) || routes.length > MAX_HEARTBEAT_TASKS + 10) {
        fail('routes', `a list of at most ${MAX_HEARTBEAT_TASKS + 10} task routes`, routes);
      }
      hb.routes = routes.map((r: unknown, i) => {
        if (typeof r !== 'string' || !isTaskRoute(r)) fail(`routes.${i}`, 'a task route (32 hex digits)', r);
        return r;
      });
    }
    return hb;
  });
}
