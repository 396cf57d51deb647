/**
 * A schema to a validator: protocol version first, then ajv (compiled once, stopping at the first
 * error), then the copy of the known fields. The validator never throws.
 */
import { Ajv } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import type { Validation } from '../wire.js';
import { copier } from './copy-known.js';
import { describe, errorText } from './error-text.js';

const ajv = new Ajv({
  strict: true,
  allowUnionTypes: true,
  verbose: true,
  allErrors: false,
  // Lengths in UTF-16 code units (String.length), as every bound of the protocol is written.
  unicode: false,
});
// Annotations of fields.ts: the words of an error, and what the copy changes. They never fail a value.
ajv.addKeyword({ keyword: 'expected', schemaType: ['string', 'object'] });
ajv.addKeyword({ keyword: 'truncate', schemaType: 'number' });
ajv.addKeyword({ keyword: 'nullAsNaN', schemaType: 'boolean' });

/**
 * The message's protocol version, when the schema fixes one (`v` a literal): checked before any other
 * field, so a message of another version is refused as such, not for a field that version may lack.
 */
function versionError(schema: TSchema, input: unknown): string | undefined {
  const wanted = (schema.properties as Record<string, { const?: unknown }> | undefined)?.v?.const;
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
  return (input) => {
    const version = versionError(schema, input);
    if (version !== undefined) return { ok: false, error: version };
    if (!check(input)) return { ok: false, error: errorText(input, check.errors ?? []) };
    return { ok: true, value: copy(input) as T };
  };
}
