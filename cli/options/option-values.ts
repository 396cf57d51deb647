/** Option-value parsers for commander: each rejects bad input with a message saying what is allowed. */
import { InvalidArgumentError } from 'commander';
import { isSeed, SEED_RANGE } from '../../shared/prng.js';
import { describeRule, type ParamRule, valueMatches } from '../../shared/task-params.js';

function number(value: string): number {
  const n = value.trim() === '' ? NaN : Number(value);
  return n;
}

export function positiveNumber(value: string): number {
  const n = number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0.');
  return n;
}

export function positiveInt(value: string): number {
  const n = number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected an integer > 0.');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0.');
  return n;
}

export function seedValue(value: string): number {
  const n = number(value);
  if (!isSeed(n)) throw new InvalidArgumentError(`expected ${SEED_RANGE}.`);
  return n;
}

/** A parser that accepts only the listed words. */
export function oneOf<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value: string) => {
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`expected one of: ${allowed.join(', ')}.`);
  };
}

export function portValue(value: string): number {
  const n = number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a port number (0-65535).');
  return n;
}

/**
 * A parser that accepts what a task parameter rule accepts (shared/task-params.ts), so a flag and the
 * parameter it sets follow one rule: `expected one of: a, b.` for a choice, else e.g. `expected a number > 0.`.
 */
export function ruleValue(rule: ParamRule & { type: 'choice' }): (value: string) => string;
export function ruleValue(rule: ParamRule & { type: 'number' | 'integer' }): (value: string) => number;
export function ruleValue(rule: ParamRule): (value: string) => string | number {
  if (rule.type === 'choice') return oneOf(rule.choices);
  return (value: string) => {
    const n = number(value);
    if (!valueMatches(rule, n)) throw new InvalidArgumentError(`expected ${describeRule(rule)}.`);
    return n;
  };
}
