/** Refusing a file that is not SQLite before SQLite ever opens (and could change) it. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

import { notSqlite } from './migrations.js';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** A non-empty file that does not start with the SQLite header is refused before SQLite ever opens it. */
export function checkHeader(file: string): void {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return; // let SQLite report it
    size = stat.size;
  } catch {
    return; // does not exist (yet): SQLite creates it, or reports why not
  }
  if (size === 0) return;
  const header = Buffer.alloc(SQLITE_MAGIC.length);
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, header, 0, header.length, 0);
    if (read < header.length || !header.equals(SQLITE_MAGIC)) throw notSqlite(file);
  } finally {
    closeSync(fd);
  }
}
