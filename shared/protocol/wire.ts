/**
 * Bytes on the wire: the size limit, strict UTF-8 and JSON decoding every receiver applies before a
 * validator (validate.ts) looks at the fields, and the encoding of outgoing messages.
 */

export type Validation<T> = { ok: true; value: T } | { ok: false; error: string };

/** Largest message accepted (NATS' default max_payload is 1 MiB too). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes off the wire to a JSON value: size limit, strict UTF-8, JSON syntax. Never throws. */
export function decodeJson(data: Uint8Array, maxBytes = MAX_MESSAGE_BYTES): Validation<unknown> {
  if (!(data instanceof Uint8Array)) return { ok: false, error: 'payload: expected bytes' };
  if (data.byteLength === 0) return { ok: false, error: 'payload: empty' };
  if (data.byteLength > maxBytes) {
    return { ok: false, error: `payload: ${data.byteLength} bytes exceeds the ${maxBytes}-byte limit` };
  }
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return { ok: false, error: 'payload: not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    // V8's message quotes the text near the error: keep it one short printable line (no log injection).
    const detail = (err instanceof Error ? err.message : String(err))
      .replace(
        // eslint-disable-next-line no-control-regex -- matching control characters is the point
        /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      )
      .slice(0, 160);
    return { ok: false, error: `payload: not valid JSON (${detail})` };
  }
}

/** decodeJson then a validator: the one call a receiver makes. Never throws. */
export function parseMessage<T>(
  data: Uint8Array,
  validate: (input: unknown) => Validation<T>,
  maxBytes = MAX_MESSAGE_BYTES,
): Validation<T> {
  const decoded = decodeJson(data, maxBytes);
  return decoded.ok ? validate(decoded.value) : decoded;
}

/** JSON bytes of an outgoing message. */
export function encodeMessage(message: object): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}
