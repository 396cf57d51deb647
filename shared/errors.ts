/**
 * Typed errors, all in this one file. Every error hpo raises on purpose is an HpoError (each takes a
 * `cause`); user mistakes are UsageError (CLI exit code 2, printed without a stack trace).
 */
export interface HpoErrorOptions {
  cause?: unknown;
}

export class HpoError extends Error {
  constructor(message: string, options: HpoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** A mistake in what the user asked for: a bad flag value, an unknown name. */
export class UsageError extends HpoError {}

/** A trial parameter its task's rule rejects (shared/task-params.ts `resolveParams`). */
export class ParamError extends UsageError {
  constructor(
    /** The parameter's name, e.g. `learning_rate`. */
    readonly param: string,
    /** What the rule accepts, e.g. `a number > 0`. */
    readonly expected: string,
    /** The value given. */
    readonly value: unknown,
    options: HpoErrorOptions = {},
  ) {
    super(`params.${param}: expected ${expected}, got ${JSON.stringify(value) ?? String(value)}`, options);
  }
}

/** A data file that is missing, truncated, corrupt or of the wrong shape. Names the file. */
export class DataError extends HpoError {
  constructor(
    message: string,
    readonly file: string | undefined,
    options: HpoErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** A tfjs backend that was asked for by name and could not be loaded. */
export class BackendError extends HpoError {}

/** `hpo setup`: a tool, download, build or check that failed (what, and the tool's last output lines). */
export class SetupError extends HpoError {}

/** `hpo setup`: what it needs cannot be had here (no pip, no compiler, no wheel from pip): nothing changed. */
export class SetupUnavailableError extends SetupError {}

// ---------------------------------------------------------------------------------------------------
// Search-space files (orchestrator/search-space).

/** One problem in a search-space file. */
export interface SearchSpaceIssue {
  /** Where: `parameters.learning_rate.min`, `parameters.arch.values[1]`; '' for the whole file. */
  path: string;
  /** What was expected, e.g. `expected a number > 0, got -1`. */
  message: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

/** Formats one issue as `file:line: path: message`. */
export function formatIssue(file: string, issue: SearchSpaceIssue): string {
  let where = file;
  if (issue.line !== undefined) where += `:${issue.line}`;
  if (issue.line !== undefined && issue.column !== undefined) where += `:${issue.column}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/**
 * A search-space file with one or more mistakes. The message lists them all, one per line, each prefixed
 * with the file name (and line when known); `issues` has them as data.
 */
export class SearchSpaceError extends UsageError {
  constructor(
    readonly file: string,
    readonly issues: readonly SearchSpaceIssue[],
    options: HpoErrorOptions = {},
  ) {
    super(issues.map((issue) => formatIssue(file, issue)).join('\n'), options);
  }
}

// ---------------------------------------------------------------------------------------------------
// The experiment store (orchestrator/store). Each names the database file when there is one.

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
 * A handler could not do its work for now and will succeed later unchanged (the store cannot write: disk
 * full, I/O error): the bus keeps the event and delivers it again, with back-off, for as long as it takes.
 */
export class RetryLaterError extends HpoError {}

/**
 * A handler will never be able to apply this event as it is (the store refuses its content: a value of
 * the wrong type, a constraint): the bus drops it at once, with this reason logged, instead of retrying.
 */
export class RefusedEventError extends HpoError {}

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

// ---------------------------------------------------------------------------------------------------
// Running trials (worker/).

/**
 * Thrown (rejected) by TrialExecutor.run() when the trial was aborted through hooks.signal
 * (shared/protocol/executor.ts).
 */
export class TrialInterruptedError extends HpoError {
  constructor(
    readonly trialId: string,
    options: HpoErrorOptions = {},
  ) {
    super(`trial ${trialId} was interrupted`, options);
  }
}

/** Training ended between two batches because its abort signal fired (worker/training/trainer.ts). */
export class TrainingAbortedError extends HpoError {}

/** Raised by a wasm gradient kernel for a configuration it does not compute (instead of wrong numbers). */
export class WasmKernelUnsupportedError extends HpoError {
  constructor(
    readonly kernelName: string,
    readonly attribute: string,
    detail: string,
    options: HpoErrorOptions = {},
  ) {
    super(`wasm kernel ${kernelName}: unsupported ${attribute}: ${detail}`, options);
  }
}

/** One line naming an error for a message or a result: `Name: message`, or the thrown value as text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
