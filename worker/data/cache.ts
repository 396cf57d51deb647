/**
 * Where generated data sets are cached: `$HPO_DATA_DIR` if set, else `$XDG_CACHE_HOME/hpo/data`, else
 * `~/.cache/hpo/data`; one file per seed and generator version, named `two-digit-mnist-g<version>-s<seed>.hpod`.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { UsageError } from '../../shared/errors.js';
import { checkSeed } from '../../shared/prng.js';

/** The default cache folder for `env` (default: process.env). Empty variables count as unset. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HPO_DATA_DIR) return resolve(env.HPO_DATA_DIR);
  if (env.XDG_CACHE_HOME) return resolve(env.XDG_CACHE_HOME, 'hpo', 'data');
  return join(homedir(), '.cache', 'hpo', 'data');
}

/**
 * Version of the generator's output. Bump it whenever a change to the generation code changes the bytes a
 * seed produces, so caches made by older code are not taken for the new data.
 */
export const GENERATOR_VERSION = 1;

/** File name of the cached data set generated from `seed`. */
export function cacheFileName(seed: number): string {
  return `two-digit-mnist-g${GENERATOR_VERSION}-s${checkSeed(seed)}.hpod`;
}

/** Full path of the cached data set for `seed` in `dataDir` (default: defaultDataDir()). */
export function cacheFilePath(seed: number, dataDir?: string): string {
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir === '')) {
    throw new UsageError(`dataDir must be a non-empty path, got ${JSON.stringify(dataDir)}`);
  }
  return join(dataDir === undefined ? defaultDataDir() : resolve(dataDir), cacheFileName(seed));
}
