/**
 * The error of a refused message, in one short printable line naming the field and what was wrong:
 * `params.lr: expected a finite number, …, got "x"`, `model.files[0].size: expected an integer in
 * 0..1099511627776, got 2199023255552`. The words come from each schema's `expected` annotation
 * (fields.ts); the field from ajv's instance path, walked in the message itself to tell list indices
 * (`files[0]`) from mapping keys (`metrics.acc`).
 */
import type { ErrorObject } from 'ajv';

type Obj = Record<string, unknown>;

/** A value as an error shows it: short, one line, never the whole of a long string. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** `field.key` for an error, with a long or unprintable key shortened (an error stays one short line). */
function keyPath(field: string, key: string): string {
  if (key.length <= 40 && !hasControlCharacter(key)) return `${field}.${key}`;
  const shown = JSON.stringify(key.slice(0, 40));
  return `${field}[${key.length > 40 ? `${shown}… (${key.length} characters)` : shown}]`;
}

/** The keys of an instance path (a JSON pointer), at most `depth` of them. */
function pointerKeys(pointer: string, depth = Infinity): string[] {
  const keys = pointer === '' ? [] : pointer.slice(1).split('/');
  return keys.slice(0, depth).map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The field `keys` name in `message`, as errors write it, and the value there. */
function field(message: unknown, keys: readonly string[]): { name: string; value: unknown } {
  if (keys.length === 0) return { name: 'message', value: message };
  let value: unknown = message;
  let name = '';
  for (const key of keys) {
    if (Array.isArray(value)) name = `${name}[${key}]`;
    else name = name === '' ? key : keyPath(name, key);
    const own = typeof value === 'object' && value !== null && Object.hasOwn(value, key);
    value = own ? (value as Obj)[key] : undefined;
  }
  return { name, value };
}

/** The annotation saying what `schema` expects, for the keyword that failed. */
function expectedOf(schema: unknown, keyword: string, fallback: string): string {
  const expected = (schema as { expected?: unknown } | undefined)?.expected;
  if (typeof expected === 'string') return expected;
  if (typeof expected === 'object' && expected !== null) {
    const words = (expected as Record<string, unknown>)[keyword] ?? (expected as Obj).type;
    if (typeof words === 'string') return words;
  }
  return fallback;
}

/** What came instead, as the error shows it (of a mapping with too many entries: their count, quoted). */
function got(error: ErrorObject, data: unknown): string {
  if (error.keyword === 'maxProperties' && typeof data === 'object' && data !== null)
    return describe(String(Object.keys(data).length));
  return describe(data);
}

function errorPathDepth(schema: unknown): number | undefined {
  return (schema as { errorPathDepth?: number } | undefined)?.errorPathDepth;
}

/**
 * The error of a message ajv refused (compiled with `verbose`, stopping at the first error; should a
 * schema use `anyOf`, ajv lists the errors of its branches first and the `anyOf` itself last: the last
 * error is the one to name). A schema with `errorPathDepth` names its enclosing field at that depth.
 */
export function errorText(message: unknown, errors: readonly ErrorObject[]): string {
  const error = errors[errors.length - 1];
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    const properties = (error.parentSchema as { properties?: Obj } | undefined)?.properties;
    const expected = expectedOf(properties?.[missing], 'type', 'a value');
    const { name } = field(message, [...pointerKeys(error.instancePath), missing]);
    return `${name}: expected ${expected}, got nothing (missing)`;
  }
  const expected = expectedOf(error.parentSchema, error.keyword, error.message ?? 'something else');
  const depth = errorPathDepth(error.parentSchema);
  const at = field(message, pointerKeys(error.instancePath, depth));
  return `${at.name}: expected ${expected}, got ${depth === undefined ? got(error, error.data) : describe(at.value)}`;
}
