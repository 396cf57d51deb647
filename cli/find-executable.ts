/** Finds a server binary the way a shell would, plus the sbin folders Debian installs servers to. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Folders searched after $PATH (Debian puts nats-server in /usr/sbin, not on a user's PATH). */
export const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/sbin'];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on $PATH or in EXTRA_BIN_DIRS; undefined when there is none. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of [...(env.PATH ?? '').split(delimiter), ...EXTRA_BIN_DIRS]) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** `file` if it is executable, else undefined (for binaries named by a flag). */
export function executableAt(file: string): string | undefined {
  return isExecutable(file) ? file : undefined;
}
