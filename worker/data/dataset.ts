/** Loading the data set (cache, generation or a user's file) and small helpers over it. */
import { DataError, UsageError } from '../../shared/errors.js';
import {
  DEFAULT_SEED,
  IMAGE_HEIGHT,
  IMAGE_WIDTH,
  NUM_CLASSES,
  SPLIT_COUNTS,
  SPLIT_NAMES,
} from './constants.js';
import { cacheFilePath } from './cache.js';
import { readDatasetFile, writeDatasetFile } from './format.js';
import { generateDataset } from './generate.js';
import { checkSeed } from '../../shared/prng.js';
import { childLogger, type Logger } from '../../shared/log/index.js';
import type { DatasetInfo, Split, SplitInfo, TwoDigitDataset } from './types.js';

export interface LoadDatasetOptions {
  /** Generator seed (default 1). Not allowed together with `file`. */
  seed?: number;
  /** Cache folder (default: $HPO_DATA_DIR, $XDG_CACHE_HOME/hpo/data or ~/.cache/hpo/data). */
  dataDir?: string;
  /** Load this .hpod file instead of the generated set; it must exist and verify. `dataDir` is ignored. */
  file?: string;
  /** Where generation (info) and cache problems (warn) are logged. Default: the process's logger. */
  logger?: Logger;
}

function isNotFound(err: DataError): boolean {
  return (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Why a verified cache file is still not the set for `seed`, or null if it is. */
function cacheMismatch(ds: TwoDigitDataset, seed: number): string | null {
  if (ds.seed !== seed) return `records seed ${ds.seed}, expected ${seed}`;
  for (const name of SPLIT_NAMES) {
    if (ds[name].count !== SPLIT_COUNTS[name]) {
      return `has ${ds[name].count} ${name} pairs, expected ${SPLIT_COUNTS[name]}`;
    }
  }
  return null;
}

/**
 * Returns the data set:
 * - with `file`: reads and verifies that file (missing or invalid is a DataError naming it);
 * - otherwise: reads the cache file for `seed` in the cache folder; if it is missing, generates the set and
 *   writes the cache file atomically; if it is invalid (truncated, corrupt, wrong magic or shape, other
 *   seed), logs a warning and regenerates it. If the cache cannot be written, warns and returns the
 *   generated set with `file: ''`.
 */
export async function loadDataset(options: LoadDatasetOptions = {}): Promise<TwoDigitDataset> {
  const log = options.logger ?? childLogger({ component: 'dataset' });
  if (options.file !== undefined) {
    if (typeof options.file !== 'string' || options.file === '') {
      throw new UsageError(`file must be a non-empty path, got ${JSON.stringify(options.file)}`);
    }
    if (options.seed !== undefined) {
      throw new UsageError('pass either a data set file or a seed, not both (a file is loaded as is)');
    }
    return readDatasetFile(options.file);
  }

  const seed = checkSeed(options.seed ?? DEFAULT_SEED);
  const file = cacheFilePath(seed, options.dataDir);
  try {
    const cached = await readDatasetFile(file);
    const problem = cacheMismatch(cached, seed);
    if (problem === null) return cached;
    log.warn({ file, seed }, `cached data set file ${file} ${problem}; regenerating it`);
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    if (!isNotFound(err)) log.warn({ file, seed }, `${err.message}; regenerating it`);
  }

  log.info({ file, seed }, `generating the two-digit MNIST data set (seed ${seed}) into ${file}`);
  const ds = generateDataset(seed);
  try {
    await writeDatasetFile(file, ds);
  } catch (err) {
    log.warn(
      { file, seed },
      `cannot write the data set cache file ${file} (${(err as Error).message}); using it from memory`,
    );
    return ds;
  }
  return { ...ds, file };
}

function splitInfo(split: Split): SplitInfo {
  const top = new Array<number>(NUM_CLASSES).fill(0);
  const bottom = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < split.count; i++) {
    top[split.top[i]]++;
    bottom[split.bottom[i]]++;
  }
  return { count: split.count, top, bottom };
}

/** Summary of a data set: where it is, its hash and seed, and per split the count and per-class label counts. */
export function datasetInfo(ds: TwoDigitDataset): DatasetInfo {
  return {
    file: ds.file,
    sha256: ds.sha256,
    seed: ds.seed,
    height: ds.height,
    width: ds.width,
    splits: { train: splitInfo(ds.train), val: splitInfo(ds.val), test: splitInfo(ds.test) },
  };
}

/**
 * The first `n` examples of `split` (1 <= n <= count), as views without copying. The generated order is
 * shuffled, so the labels of a prefix stay roughly balanced.
 */
export function subsetSplit(split: Split, n: number): Split {
  if (!Number.isInteger(n) || n < 1 || n > split.count) {
    throw new UsageError(`subset size must be an integer between 1 and ${split.count}, got ${n}`);
  }
  return {
    count: n,
    images: split.images.subarray(0, n * IMAGE_HEIGHT * IMAGE_WIDTH),
    top: split.top.subarray(0, n),
    bottom: split.bottom.subarray(0, n),
  };
}
