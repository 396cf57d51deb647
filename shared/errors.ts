/**
 * Typed errors. Every error hpo raises on purpose is an HpoError; user mistakes are UsageError
 * (CLI exit code 2, printed without a stack trace).
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
