/**
 * Whether a store failure is one that passes (the disk is full, the file size limit is reached, an I/O
 * error, another connection holds the write lock) or one that never will (the store refuses the data:
 * a constraint, a value of the wrong type). An event that failed the first way is kept on the bus and
 * retried until the store can write; one that failed the second way is dropped at once, with its reason.
 */

/** SQLite result codes (primary, before any `_` extension) of a store that cannot write for now. */
const PASSING_SQLITE_CODES = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_BUSY', 'SQLITE_LOCKED'];
/**
 * errno codes of a file that cannot grow for now: no space, over quota, over the file size limit (SQLite
 * reports the last as SQLITE_IOERR_WRITE), an I/O error.
 */
const PASSING_ERRNO_CODES = ['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO'];

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `err` (or an error in its `cause` chain) says the store cannot write now but will later. */
export function storeCannotWriteNow(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    const code = codeOf(e);
    if (code !== undefined) {
      if (PASSING_ERRNO_CODES.includes(code)) return true;
      if (PASSING_SQLITE_CODES.some((c) => code === c || code.startsWith(`${c}_`))) return true;
    }
    e = e.cause;
  }
  return false;
}
