/**
 * `${interpreter}` of a command task and finding executables, the way a shell would (no shell is used).
 */
import { extname, isAbsolute } from 'node:path';
import { findOnPath, isExecutable } from '../../shared/executables.js';

/** The interpreter for a program, by extension: node for .js/.mjs/.cjs, python3 for .py, bash for .sh. */
export function interpreterFor(program: string): string | undefined {
  switch (extname(program).toLowerCase()) {
    case '.js':
    case '.mjs':
    case '.cjs':
      return process.execPath;
    case '.py':
      return 'python3';
    case '.sh':
      return 'bash';
    default:
      return undefined;
  }
}

/** `name` as spawn would find it: a path (containing a slash) as is, else the first one on $PATH. */
export function whichExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (isAbsolute(name) || name.includes('/')) return isExecutable(name) ? name : undefined;
  return findOnPath(name, env);
}
