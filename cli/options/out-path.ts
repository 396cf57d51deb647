/**
 * `--out` checks made before anything is written: a path of the wrong kind (a file where a folder is
 * expected, or the reverse) is a usage error, and existing output is never overwritten without --force.
 */
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';

export interface OutCheckOptions {
  /** Overwrite existing output (the --force flag). */
  force?: boolean;
  /** Option name for messages (default `--out`). */
  option?: string;
  /** The command has a --force flag to mention (default true). */
  canForce?: boolean;
}

function refusal(options: OutCheckOptions, what: string): string {
  return `nothing was written${options.canForce === false ? '' : `; add --force to overwrite ${what}`}`;
}

export interface OutDirOptions extends OutCheckOptions {
  /** Files in the folder that the command would replace (default: any entry of the folder). */
  files?: readonly string[];
}

export function addForceOption(cmd: Command): Command {
  return cmd.option('--force', 'overwrite existing output');
}

function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Refuses a folder (exit 2) and, without force, an existing file. */
export function checkOutFile(path: string, options: OutCheckOptions = {}): void {
  const option = options.option ?? '--out';
  const s = stat(path);
  if (!s) return;
  if (s.isDirectory()) throw new UsageError(`${option}: ${path} is a folder, expected a file name`);
  if (!options.force) {
    throw new UsageError(`${option}: ${path} exists (${refusal(options, 'it')})`);
  }
}

/** Refuses a file (exit 2) and, without force, a folder holding output it would replace. */
export function checkOutDir(path: string, options: OutDirOptions = {}): void {
  const option = options.option ?? '--out';
  const s = stat(path);
  if (!s) return;
  if (!s.isDirectory()) throw new UsageError(`${option}: ${path} is a file, expected a folder`);
  if (options.force) return;
  const present = options.files
    ? options.files.filter((f) => stat(join(path, f)) !== undefined)
    : readdirSync(path);
  if (present.length > 0) {
    throw new UsageError(
      `${option}: ${path} already holds ${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''} ` +
        `(${refusal(options, 'them')})`,
    );
  }
}
