/** Errors of the experiment store. Each names the database file when there is one. */
import { HpoError, type HpoErrorOptions } from '../../shared/errors.js';

export interface StoreErrorOptions extends HpoErrorOptions {
  /** The database file concerned (':memory:' for an in-memory store). */
  file?: string;
}

/** Anything the store could not do: a duplicate experiment, an unknown trial, an SQLite failure (in `cause`). */
export class StoreError extends HpoError {
  readonly file: string | undefined;

  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.file = options.file;
  }
}

/**
 * Why a file was refused:
 * - `not-sqlite`: not an SQLite database at all (a text file, a truncated or encrypted file);
 * - `foreign`: an SQLite database of some other application (another application_id, or tables but no id);
 * - `newer-schema`: an hpo database whose schema version is newer than this code knows.
 */
export type NotOurDatabaseReason = 'not-sqlite' | 'foreign' | 'newer-schema';

/** `SqliteStore.open` refused a file that is not (or not yet understandable as) an hpo database. Nothing was changed. */
export class NotOurDatabaseError extends StoreError {
  constructor(
    message: string,
    readonly reason: NotOurDatabaseReason,
    file: string,
    options: HpoErrorOptions = {},
  ) {
    super(message, { ...options, file });
  }
}
