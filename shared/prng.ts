/**
 * A small seedable PRNG in 32-bit integer arithmetic, so a seed gives the same sequence on every machine.
 *
 * The generator is mulberry32 (Tommy Ettinger's public-domain 32-bit generator): a Weyl sequence
 * `state += 0x6D2B79F5` passed through an xorshift-multiply output function built on Math.imul.
 * Independent streams for different purposes come from hashing (seed, stream) with a murmur3-style
 * finalizer. All decisions use integers only: `below(n)` rejects the top sliver of the 2^32 range instead of
 * scaling a float, and `shuffle` is Fisher-Yates on top of `below`. Nothing uses Math.random.
 */
import { UsageError } from './errors.js';

const TWO_POW_32 = 0x1_0000_0000;

/** Mixes a 32-bit seed and a stream number into a well-spread 32-bit initial state. */
export function mixSeed(seed: number, stream: number): number {
  let h = (seed + Math.imul(stream, 0x9e3779b9)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** What a seed may be, for messages: `an integer between 0 and 4294967295`. */
export const SEED_RANGE = `an integer between 0 and ${TWO_POW_32 - 1}`;

/** Whether `seed` is a valid seed: an integer in [0, 2^32 - 1]. The one seed rule. */
export function isSeed(seed: unknown): seed is number {
  return typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed < TWO_POW_32;
}

/** Throws a UsageError unless `seed` is an integer in [0, 2^32 - 1]. */
export function checkSeed(seed: unknown): number {
  if (!isSeed(seed)) throw new UsageError(`seed must be ${SEED_RANGE}, got ${String(seed)}`);
  return seed;
}

export class Prng {
  private state: number;

  /** `stream` selects an independent sequence for the same seed (e.g. one per split). */
  constructor(seed: number, stream = 0) {
    this.state = mixSeed(checkSeed(seed), stream) | 0;
  }

  /** Next uniformly distributed integer in [0, 2^32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, n), 1 <= n <= 2^32, without modulo bias (rejection sampling). */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`below(${n})`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n); // largest multiple of n that fits; exact in doubles
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }
}

/** A float in [0, 1): one uint32 divided by 2^32. */
export function unitFloat(prng: Prng): number {
  return prng.nextUint32() / TWO_POW_32;
}

/** FNV-1a of a string, mapped onto [0, 1). */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / TWO_POW_32;
}
