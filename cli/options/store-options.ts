import type { Command } from 'commander';
import { SqliteStore } from '../../orchestrator/store/index.js';

export const DEFAULT_DB = './hpo.db';

export function addDbOption(cmd: Command): Command {
  return cmd.option('--db <file>', 'experiment database (SQLite)', DEFAULT_DB);
}

/** Opens the store, runs `fn`, closes the store whatever happens. */
export async function withStore<T>(path: string, fn: (store: SqliteStore) => Promise<T> | T): Promise<T> {
  const store = SqliteStore.open(path);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
