import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { NotOurDatabaseError, SqliteStore, StoreError } from '../../orchestrator/store/index.js';

export const DEFAULT_DB = './hpo.db';

export function addDbOption(cmd: Command): Command {
  return cmd.option('--db <file>', 'experiment database (SQLite)', DEFAULT_DB);
}

/** Opens the store, runs `fn`, closes the store whatever happens. */
export async function withStore<T>(path: string, fn: (store: SqliteStore) => Promise<T> | T): Promise<T> {
  return use(SqliteStore.open(path), fn);
}

/** A usage error unless the database file exists (for commands that never create one). */
export function requireDatabase(path: string): void {
  if (!existsSync(path)) {
    throw new UsageError(`no such database: ${path} (check --db; start an experiment with hpo search FILE)`);
  }
}

/**
 * For commands that only read: a missing file is a usage error (a mistyped --db never creates a
 * database), and an up-to-date file is opened read-only. An older schema is upgraded first (a write,
 * as any other command would do).
 */
export async function withExistingStore<T>(
  path: string,
  fn: (store: SqliteStore) => Promise<T> | T,
): Promise<T> {
  requireDatabase(path);
  let store: SqliteStore;
  try {
    store = SqliteStore.open(path, { readonly: true });
  } catch (err) {
    if (err instanceof NotOurDatabaseError || !(err instanceof StoreError)) throw err;
    store = SqliteStore.open(path); // an older schema (or an empty file): upgraded, or refused with why
  }
  return use(store, fn);
}

async function use<T>(store: SqliteStore, fn: (store: SqliteStore) => Promise<T> | T): Promise<T> {
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
