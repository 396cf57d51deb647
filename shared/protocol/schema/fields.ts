/**
 * The field types of the wire messages, each a JSON Schema (built with TypeBox) carrying every bound the
 * bus review relies on, and an `expected` annotation: the words of the error when a field is refused
 * (`trial_id: expected a non-empty string, got 42`). `expected` is a plain string, or one per JSON
 * Schema keyword when the words depend on which bound broke.
 *
 * Two more annotations tell the copy of a valid message (copy-known.ts) what to change: `truncate`
 * (free text is cut, never refused) and `nullAsNaN` (JSON writes NaN and ±Infinity as null: a diverged
 * loss is a valid metric).
 */
import { type TSchema, type TUnsafe, Type } from '@sinclair/typebox';
import { SEED_RANGE } from '../../prng.js';
import { MAX_TRIAL_EPOCHS, MAX_VALUE_DEPTH, type ParamValue } from '../trial.js';

/** Longest name (experiment, trial id, task, worker) accepted. */
export const MAX_NAME_LENGTH = 256;
/** Most parameters / metrics in one message (and items in one list or mapping of a parameter value). */
export const MAX_ENTRIES = 1000;
/** Longest error text kept in a result (longer ones are truncated, not rejected). */
export const MAX_ERROR_LENGTH = 16 * 1024;
/** Most task names in a heartbeat. */
export const MAX_HEARTBEAT_TASKS = 100;
/** Longest file path a message may carry (model.path). */
export const MAX_PATH_LENGTH = 4096;
/** Highest attempt number of a trial, refusal count, protocol version in a heartbeat. */
export const MAX_COUNT = 1_000_000;
/** Most executor slots a heartbeat may announce (and trials held). */
export const MAX_SLOTS = 10_000;
/** Largest model file a result may list (1 TiB: far over any --max-model-mb). */
export const MAX_FILE_BYTES = 2 ** 40;

/** An experiment id on the bus (isBusId): it names subjects and folders. */
export const BUS_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
/** A task route (taskRoute): 32 lowercase hex digits. */
export const TASK_ROUTE_PATTERN = '^[0-9a-f]{32}$';
/** A delivery token: 16-128 characters of [A-Za-z0-9_-] (the orchestrator mints 22). */
const TOKEN_PATTERN = '^[A-Za-z0-9_-]{16,128}$';
const SHA256_PATTERN = '^[0-9a-f]{64}$';
/** No control character (C0 or DEL): a name ends up in subjects, headers and logs. */
const NO_CONTROL_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';

/** A non-empty name without control characters, at most MAX_NAME_LENGTH characters. */
export const Name = Type.String({
  minLength: 1,
  maxLength: MAX_NAME_LENGTH,
  pattern: NO_CONTROL_PATTERN,
  expected: {
    type: 'a non-empty string',
    minLength: 'a non-empty string',
    maxLength: `at most ${MAX_NAME_LENGTH} characters`,
    pattern: 'a string without control characters',
  },
});

export const BusId = Type.String({
  pattern: BUS_ID_PATTERN,
  expected: '1-64 characters of [A-Za-z0-9_-]',
});

export const Token = Type.String({
  pattern: TOKEN_PATTERN,
  expected: 'a delivery token (16-128 characters of [A-Za-z0-9_-])',
});

/** A sha256 digest: 64 lowercase hex digits. */
export const Sha256 = Type.String({ pattern: SHA256_PATTERN, expected: '64 lowercase hex digits' });

export const TaskRoute = Type.String({
  pattern: TASK_ROUTE_PATTERN,
  expected: 'a task route (32 hex digits)',
});

/** A free text (an error, a reason): any string, cut to MAX_ERROR_LENGTH characters. */
export const Text = Type.String({ truncate: MAX_ERROR_LENGTH, expected: 'a string' });

/** A file path: a non-empty string without NUL, at most MAX_PATH_LENGTH characters. */
export const FilePath = Type.String({
  minLength: 1,
  maxLength: MAX_PATH_LENGTH,
  pattern: '^[^\\u0000]*$',
  expected: `a path of 1-${MAX_PATH_LENGTH} characters`,
});

export const Flag = Type.Boolean({ expected: 'a boolean' });

/** A whole number in min..max (max at most Number.MAX_SAFE_INTEGER). */
export function BoundedInteger(minimum: number, maximum = Number.MAX_SAFE_INTEGER) {
  const expected =
    maximum === Number.MAX_SAFE_INTEGER ? `an integer >= ${minimum}` : `an integer in ${minimum}..${maximum}`;
  return Type.Integer({ minimum, maximum, expected });
}

/** A seed (isSeed): an integer in [0, 2^32 - 1]. */
export const Seed = Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1, expected: SEED_RANGE });
export const Attempt = BoundedInteger(1, MAX_COUNT);
/** An epoch number of a trial. */
export const EpochNumber = BoundedInteger(1, MAX_TRIAL_EPOCHS);

/**
 * A time in integer epoch ms. The window around the receiver's clock (timestamps.ts) depends on the
 * moment of receipt, which a schema cannot say: it is checked right after the schema.
 */
export const Timestamp = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  expected: 'a time in integer epoch ms between 10 years ago and a day ahead',
});

/** One of a few names (an enum on the wire). */
export function OneOf<const T extends readonly string[]>(names: T): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...names], expected: `one of ${names.join(', ')}` });
}

/** A mapping of any keys (control characters included) to `value`s, at most MAX_ENTRIES of them. */
export function BoundedRecord<T>(value: TSchema): TUnsafe<Record<string, T>> {
  return Type.Unsafe<Record<string, T>>({
    type: 'object',
    maxProperties: MAX_ENTRIES,
    additionalProperties: value,
    expected: { type: 'an object', maxProperties: `at most ${MAX_ENTRIES} entries` },
  });
}

/** Metric values: numbers; null (JSON's NaN/Infinity) reads as NaN. */
export const Metrics = BoundedRecord<number>(
  Type.Unsafe<number>({ type: ['number', 'null'], nullAsNaN: true, expected: 'a number' }),
);

/**
 * A parameter value: finite number, string, boolean, null, or a list / mapping of them, at most
 * MAX_VALUE_DEPTH lists or mappings deep and MAX_ENTRIES items in each. JSON Schema has no depth bound
 * for a recursive schema, so the levels are spelled out: `level<d>` is a value at depth d, a scalar
 * only at the deepest. Each level is one schema whose keywords apply by the value's type (no `anyOf`:
 * a valid value is checked without trying branches). An error inside names the parameter
 * (`errorPathDepth`: `params.<name>`), as a value is valid or not as a whole.
 */
function paramValueSchema(): TUnsafe<ParamValue> {
  const expected = `a finite number, string, boolean, null, or a list or mapping of them (at most ${MAX_VALUE_DEPTH} deep)`;
  // A finite number: `minimum`/`maximum` (which apply to numbers only) refuse NaN and ±Infinity, which
  // reach a validator only in-process (JSON has neither).
  const scalar = {
    type: ['null', 'string', 'boolean', 'number'],
    minimum: -Number.MAX_VALUE,
    maximum: Number.MAX_VALUE,
    expected,
    errorPathDepth: 2,
  };
  const level = (d: number) => {
    const inner = { $ref: `#/$defs/level${d + 1}` };
    return {
      ...scalar,
      type: [...scalar.type, 'array', 'object'],
      maxItems: MAX_ENTRIES,
      items: inner,
      maxProperties: MAX_ENTRIES,
      additionalProperties: inner,
    };
  };
  const $defs: Record<string, object> = { [`level${MAX_VALUE_DEPTH}`]: scalar };
  for (let d = MAX_VALUE_DEPTH - 1; d >= 1; d--) $defs[`level${d}`] = level(d);
  return Type.Unsafe<ParamValue>({ $id: 'urn:hpo:param-value', $defs, ...level(0) });
}

/** Sampled hyperparameters of one trial, by parameter name. */
export const Params = BoundedRecord<ParamValue>(paramValueSchema());
