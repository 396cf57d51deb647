import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { openStore, openStoreReader, type Store, type StoreReader } from '../../orchestrator/store/index.js';

export const DEFAULT_DB = './hpo.db';

export function addDbOption(cmd: Command): Command {
  return cmd.option('--db <file>', 'experiment database (SQLite)', DEFAULT_DB);
}

/** Opens the store, runs `fn`, closes the store whatever happens. */
export async function withStore<T>(path: string, fn: (store: Store) => Promise<T> | T): Promise<T> {
  return use(openStore(path), fn);
}

/** A usage error unless the database file exists (for commands that never create one). */
export function requireDatabase(path: string): void {
  if (!existsSync(path)) {
    throw new UsageError(`no such database: ${path} (check --db; start an experiment with hpo search FILE)`);
  }
}

/**
 * For commands that only read: a missing file is a usage error (a mistyped --db never creates a
 * database), and the file is opened read-only: never created, migrated or otherwise written (an older
 * schema is read through an up-to-date copy in memory).
 */
export async function withExistingStore<T>(
  path: string,
  fn: (store: StoreReader) => Promise<T> | T,
): Promise<T> {
  requireDatabase(path);
  return use(openStoreReader(path), fn);
}

async function use<S extends StoreReader, T>(store: S, fn: (store: S) => Promise<T> | T): Promise<T> {
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
