/**
 * Loading a user's task module: a JS file whose default export is a task made with defineTask. The file
 * is named by the operator (a sweep file's `task:`, `hpo worker --task`), never by a bus message; its
 * content sha256 names it in trials. The import URL carries the sha, so a changed file is imported anew.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../../shared/errors.js';
import type { Task } from './task.js';

/** A module path a sweep file's `task:` may hold (anything else is a built-in task name). */
export function isTaskModulePath(ref: string): boolean {
  return /^(\.{1,2}[\\/]|\/)/.test(ref) || /\.(mjs|cjs|js)$/.test(ref);
}

export interface LoadedTaskModule {
  task: Task;
  /** Absolute path of the file. */
  path: string;
  sha256: string;
  /** The URL it was imported from (what pool threads import). */
  url: string;
}

export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The module's import URL for this content. */
export function moduleUrl(path: string, sha256: string): string {
  return `${pathToFileURL(path).href}?sha256=${sha256}`;
}

/** What is wrong with a module's default export as a task, or null when it is one. */
export function taskProblem(mod: unknown): string | null {
  const exported = (mod as { default?: unknown } | null)?.default;
  if (exported === undefined) {
    return 'no default export: expected `export default defineTask({ name, run })`';
  }
  if (typeof exported !== 'object' || exported === null) {
    return `the default export is ${exported === null ? 'null' : typeof exported}, not a task: expected \`export default defineTask({ name, run })\``;
  }
  const t = exported as Partial<Task>;
  const missing = [
    typeof t.name === 'string' && t.name !== '' ? '' : 'name',
    typeof t.run === 'function' ? '' : 'run',
    typeof t.params === 'object' && t.params !== null ? '' : 'params (wrap it in defineTask)',
  ].filter(Boolean);
  if (missing.length > 0) return `the default export is not a task: missing ${missing.join(', ')}`;
  return null;
}

/** Imports a task module; a missing file, an import error or a non-task default export is a UsageError. */
export async function loadTaskModule(file: string): Promise<LoadedTaskModule> {
  const path = resolve(file);
  let sha256: string;
  try {
    sha256 = fileSha256(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `task module ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      { cause: err },
    );
  }
  const url = moduleUrl(path, sha256);
  let mod: unknown;
  try {
    mod = await import(url);
  } catch (err) {
    throw new UsageError(`task module ${path}: cannot import it: ${(err as Error).message}`, { cause: err });
  }
  const problem = taskProblem(mod);
  if (problem) throw new UsageError(`task module ${path}: ${problem}`);
  return { task: (mod as { default: Task }).default, path, sha256, url };
}
