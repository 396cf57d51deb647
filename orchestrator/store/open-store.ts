/**
 * Where a store is chosen: the one place a new kind of store registers (today SQLite, the embedded
 * default; a server database would be picked here from its URL). Callers get the contract, never the
 * implementation.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../shared/errors.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store, StoreReader } from './types.js';

/** Opens (creating if needed) the store at `path` for reading and writing. */
export function openStore(path: string): Store {
  return SqliteStore.open(path);
}

export interface OpenStoreReaderOptions {
  /**
   * The reader watches a store another process writes (the web dashboard): a file of an older schema is
   * refused (it must be upgraded by a writer first) rather than read through a copy that never changes.
   */
  live?: boolean;
}

/**
 * Opens an existing store read-only: never created, migrated or written. A missing file is a usage
 * error naming how to make one.
 */
export function openStoreReader(path: string, options: OpenStoreReaderOptions = {}): StoreReader {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new UsageError(`no database ${file} (start a search with hpo search FILE --db ${path} first)`);
  }
  return SqliteStore.open(path, { readonly: true, live: options.live });
}
