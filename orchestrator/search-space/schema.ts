/**
 * Structural validation of a search-space file against search-spaces/sweep.schema.json (the same schema
 * editors use), with ajv's errors translated into hpo's `path: expected ...` form.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { HpoError } from '../../shared/errors.js';
import type { PathSegment } from './task-catalog.js';

/** dist/orchestrator/search-space/schema.js → <repo>/search-spaces/sweep.schema.json */
export const SCHEMA_URL = new URL('../../../search-spaces/sweep.schema.json', import.meta.url);

/** A structural problem: where (as path segments) and what was expected. */
export interface StructuralIssue {
  path: PathSegment[];
  message: string;
}

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  if (validator) return validator;
  let schema: unknown;
  const file = fileURLToPath(SCHEMA_URL);
  try {
    schema = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HpoError(`cannot load the search-space schema ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  validator = ajv.compile(schema as object);
  return validator;
}

/** JSON pointer → segments; all-digit segments become list indices (parameter names cannot be digits). */
function pointerSegments(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `['parameters', 'lr', 'values', 1]` → `parameters.lr.values[1]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

function typeNoun(type: unknown): string {
  const types = (Array.isArray(type) ? type : [type]).map((t) => TYPE_NAMES[String(t)] ?? String(t));
  if (types.length <= 1) return types[0] ?? 'a value';
  return `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}`;
}

function getAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

/** For errors inside a parameter: what the entry's shape is, to explain why a key is wrong there. */
function parameterContext(root: unknown, path: readonly PathSegment[]): string {
  if (path[0] !== 'parameters' || typeof path[1] !== 'string') return '';
  const entry = getAt(root, path.slice(0, 2));
  if (entry === null || typeof entry !== 'object') return '';
  const e = entry as Record<string, unknown>;
  if (typeof e.distribution === 'string') return ` with distribution ${e.distribution}`;
  if ('value' in e) return ' together with value';
  if ('values' in e) return ' together with values';
  return ' together with min and max';
}

/** For keys of early_terminate that belong to the other type. */
function terminateContext(root: unknown, path: readonly PathSegment[]): string {
  if (path[0] !== 'early_terminate' || path.length !== 2) return '';
  const type = (getAt(root, ['early_terminate']) as Record<string, unknown>).type;
  return typeof type === 'string' ? ` with type ${type}` : '';
}

const OPERATORS: Record<string, string> = {
  minimum: '>=',
  exclusiveMinimum: '>',
  maximum: '<=',
  exclusiveMaximum: '<',
};

function translate(err: ErrorObject, root: unknown): StructuralIssue | null {
  const path = pointerSegments(err.instancePath);
  const params = err.params as Record<string, unknown>;
  const parent = (err.parentSchema ?? {}) as Record<string, unknown>;
  switch (err.keyword) {
    case 'if':
    case 'propertyNames':
      return null; // the failing branch / the name's own error say it better
    case 'required': {
      const missing = String(params.missingProperty);
      const context = parameterContext(root, path);
      return { path: [...path, missing], message: context ? `is required${context}` : 'is required' };
    }
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((parent.properties ?? {}) as object);
      return { path: [...path, key], message: `unknown key; expected one of ${allowed.join(', ')}` };
    }
    case 'false schema':
      return { path, message: `not allowed${parameterContext(root, path)}${terminateContext(root, path)}` };
    case 'type':
      return { path, message: `expected ${typeNoun(params.type)}, got ${show(err.data)}` };
    case 'enum':
      return {
        path,
        message: `expected one of ${(params.allowedValues as unknown[]).map(String).join(', ')}, got ${show(err.data)}`,
      };
    case 'const':
      return { path, message: `expected ${show(params.allowedValue)}, got ${show(err.data)}` };
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum':
      return {
        path,
        message: `expected ${typeNoun(parent.type ?? 'number')} ${OPERATORS[err.keyword]} ${String(params.limit)}, got ${show(err.data)}`,
      };
    case 'minItems':
      return { path, message: 'expected a non-empty list' };
    case 'uniqueItems': {
      const [i, j] = [Number(params.i), Number(params.j)].sort((a, b) => a - b);
      return {
        path: [...path, j],
        message: `duplicate of ${formatPath([...path, i])} (${show((err.data as unknown[])[j])})`,
      };
    }
    case 'minProperties':
      return { path, message: 'expected at least one parameter' };
    case 'minLength':
      return { path, message: 'expected a non-empty string' };
    case 'pattern':
      if (err.propertyName !== undefined) {
        return {
          path: [...path, err.propertyName],
          message: 'invalid parameter name: expected a letter or _ followed by letters, digits, _, . or -',
        };
      }
      return { path, message: `expected a string matching ${String(params.pattern)}, got ${show(err.data)}` };
    default:
      return { path, message: err.message ?? `fails ${err.keyword}` };
  }
}

/** Validates `data` (the parsed YAML) against the schema; every problem, deduplicated, in ajv's order. */
export function validateStructure(data: unknown): StructuralIssue[] {
  const validate = getValidator();
  if (validate(data)) return [];
  const issues: StructuralIssue[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    const issue = translate(err, data);
    if (!issue) continue;
    const key = `${formatPath(issue.path)}\n${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}
