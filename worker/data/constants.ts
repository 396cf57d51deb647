/**
 * Shape and size constants of the two-digit MNIST data set.
 *
 * An image is 42 rows x 28 columns of uint8: an MNIST 28x28 digit in rows 0-27 (the "top" digit) and a
 * second one in rows 14-41 (the "bottom" digit). See docs/DATA.md.
 */
export const IMAGE_HEIGHT = 42;
export const IMAGE_WIDTH = 28;
export const NUM_CLASSES = 10;

/** Side of one MNIST source digit. */
export const DIGIT_SIZE = 28;
/** First image row of the bottom digit; rows BOTTOM_OFFSET..DIGIT_SIZE-1 hold both digits. */
export const BOTTOM_OFFSET = IMAGE_HEIGHT - DIGIT_SIZE;
/** Bytes of one image. */
export const IMAGE_BYTES = IMAGE_HEIGHT * IMAGE_WIDTH;

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** Pairs per split of the generated set (each a multiple of NUM_CLASSES, so labels balance exactly). */
export const SPLIT_COUNTS: Readonly<Record<SplitName, number>> = { train: 36_000, val: 4_000, test: 4_000 };

/**
 * How MNIST's 60,000 training digits are divided into disjoint pools: the validation pairs draw only from
 * VAL_POOL_SIZE of them, the training pairs from the rest. The test pairs draw from MNIST's 10,000 test digits.
 */
export const VAL_POOL_SIZE = 10_000;

export const DEFAULT_SEED = 1;
