/**
 * The checks of a message that JSON Schema cannot say, run after its schema passed: a timestamp's
 * window around the receiver's clock (it moves with the moment of receipt) and a result's final epoch
 * being its last one (two fields compared). Each returns an error like the schema's, or undefined.
 */
import type { FinalEpoch } from '../trial.js';
import { describe } from './error-text.js';

/**
 * Bounds of the timestamps on the wire (issue 24): integer epoch ms, at most MAX_TIMESTAMP_AGE_MS before
 * the receiver's clock and at most MAX_CLOCK_AHEAD_MS after it (clock skew).
 */
export const MAX_TIMESTAMP_AGE_MS = 10 * 366 * 24 * 3600 * 1000;
/** How far ahead of the receiver's clock a sender's timestamp may be (clock skew). */
export const MAX_CLOCK_AHEAD_MS = 24 * 3600 * 1000;

/** The first of `fields` (integer epoch ms, per the schema) outside the window around `now`. */
export function timestampOutsideWindow<K extends string>(
  message: Record<K, number>,
  fields: readonly K[],
  now: number,
): string | undefined {
  const min = now - MAX_TIMESTAMP_AGE_MS;
  const max = now + MAX_CLOCK_AHEAD_MS;
  for (const field of fields) {
    const value = message[field];
    if (value < min || value > max) {
      return `${field}: expected a time in integer epoch ms between ${min} (10 years ago) and ${max} (a day ahead), got ${describe(value)}`;
    }
  }
  return undefined;
}

/** A result's final_epoch is the epoch its `epochs` counts up to (the last one). */
export function finalEpochNotLast(result: { epochs: number; final_epoch?: FinalEpoch }): string | undefined {
  const final = result.final_epoch;
  if (final === undefined || final.epoch === result.epochs) return undefined;
  return `final_epoch.epoch: expected the result's epochs (${result.epochs}), got ${final.epoch}`;
}
