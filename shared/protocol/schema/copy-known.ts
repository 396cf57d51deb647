/**
 * The copy a validator returns of a valid message: a fresh object holding only the fields its schema
 * knows (unknown ones are ignored, never passed on), built by a function compiled once per schema.
 * Mapping keys are copied as plain data (an own key `__proto__` stays a key, nothing is polluted); free
 * text longer than its `truncate` annotation is cut; null where `nullAsNaN` is set reads as NaN.
 */
type Obj = Record<string, unknown>;
type Copy = (value: unknown) => unknown;

interface CopySchema {
  type?: unknown;
  properties?: Record<string, CopySchema>;
  additionalProperties?: unknown;
  items?: unknown;
  truncate?: number;
  nullAsNaN?: boolean;
}

const same: Copy = (value) => value;

function copyObject(properties: Record<string, CopySchema>): Copy {
  const keys = Object.keys(properties);
  const copies = keys.map((key) => copier(properties[key]));
  return (value) => {
    const from = value as Obj;
    const out: Obj = {};
    for (let i = 0; i < keys.length; i++) {
      const v = from[keys[i]];
      if (v !== undefined) out[keys[i]] = copies[i](v);
    }
    return out;
  };
}

function copyMapping(values: CopySchema): Copy {
  const copy = copier(values);
  return (value) => {
    const from = value as Obj;
    const out: Obj = {};
    for (const key of Object.keys(from)) {
      // Assigning `__proto__` would set the prototype: that one key is defined as plain data instead.
      if (key !== '__proto__') out[key] = copy(from[key]);
      else
        Object.defineProperty(out, key, {
          value: copy(from[key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    return out;
  };
}

/** The copying function of values that passed `schema`. */
export function copier(of: object): Copy {
  const schema = of as CopySchema;
  if (schema.nullAsNaN === true) return (value) => (value === null ? NaN : value);
  const max = schema.truncate;
  if (max !== undefined) {
    return (value) => ((value as string).length > max ? `${(value as string).slice(0, max)}…` : value);
  }
  if (schema.properties !== undefined) return copyObject(schema.properties);
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object') {
    return copyMapping(schema.additionalProperties as CopySchema);
  }
  if (schema.type === 'array' && typeof schema.items === 'object') {
    const copy = copier(schema.items as CopySchema);
    return (value) => (value as unknown[]).map(copy);
  }
  return same;
}
