/** Finds a server binary the way a shell would, plus the sbin folders Debian installs servers to. */
import { findOnPath, isExecutable } from '../shared/executables.js';

/** Folders searched after $PATH (Debian puts nats-server in /usr/sbin, not on a user's PATH). */
export const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/sbin'];

/** The first executable `name` on $PATH or in EXTRA_BIN_DIRS; undefined when there is none. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findOnPath(name, env, EXTRA_BIN_DIRS);
}

/** `file` if it is executable, else undefined (for binaries named by a flag). */
export function executableAt(file: string): string | undefined {
  return isExecutable(file) ? file : undefined;
}
