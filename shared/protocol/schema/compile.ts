/**
 * A schema to a validator: protocol version first, then ajv (compiled once, stopping at the first
 * error), then the copy of the known fields. The validator never throws.
 */
import { Ajv } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import type { Validation } from '../wire.js';
import { copier } from './copy-known.js';
import { describe, errorText } from './error-text.js';

/** ajv's warnings, but for the one about `unicode: false`, chosen knowingly (below). */
const logger = {
  log: console.log,
  warn: (...args: unknown[]) => {
    if (!String(args[0]).startsWith('DEPRECATED: option unicode')) console.warn(...args);
  },
  error: console.error,
};

const ajv = new Ajv({
  strict: true,
  allowUnionTypes: true,
  verbose: true,
  allErrors: false,
  // Metrics may be NaN or ±Infinity in-process (on the wire they are null): numbers are not all finite.
  strictNumbers: false,
  // Lengths in UTF-16 code units (String.length), as every bound of the protocol is written and as the
  // validators before the schemas counted; ajv 8 still honours the option, with a deprecation warning.
  unicode: false,
  // The patterns are ASCII classes and \u escapes: matched by UTF-16 code units too, and faster.
  unicodeRegExp: false,
  logger,
});
// Annotations of fields.ts: the words of an error, and what the copy changes. They never fail a value.
ajv.addKeyword({ keyword: 'expected', schemaType: ['string', 'object'] });
ajv.addKeyword({ keyword: 'truncate', schemaType: 'number' });
ajv.addKeyword({ keyword: 'nullAsNaN', schemaType: 'boolean' });
ajv.addKeyword({ keyword: 'errorPathDepth', schemaType: 'number' });

/**
 * The message's protocol version, when the schema fixes one (`v` a literal): checked before any other
 * field, so a message of another version is refused as such, not for a field that version may lack.
 */
function versionError(wanted: unknown, input: unknown): string | undefined {
  if (wanted === undefined || typeof input !== 'object' || input === null || Array.isArray(input)) return;
  const v = (input as { v?: unknown }).v;
  if (v === wanted) return;
  if (v === undefined) return `v: expected protocol version ${String(wanted)}, got nothing (missing)`;
  return `v: unsupported protocol version ${describe(v)} (this build speaks ${String(wanted)})`;
}

/** The validator of one wire message: `Validation<T>` with a fresh copy of its known fields, or an error. */
export function compileMessage<T>(schema: TSchema): (input: unknown) => Validation<T> {
  const check = ajv.compile(schema);
  const copy = copier(schema);
  const version = (schema.properties as Record<string, { const?: unknown }> | undefined)?.v?.const;
  return (input) => {
    const wrongVersion = versionError(version, input);
    if (wrongVersion !== undefined) return { ok: false, error: wrongVersion };
    if (!check(input)) return { ok: false, error: errorText(input, check.errors ?? []) };
    return { ok: true, value: copy(input) as T };
  };
}
