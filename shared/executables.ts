/** Finding an executable the way a shell would (no shell is used): by its name on $PATH. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when `file` exists and this process may execute it. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first executable `name` in the folders of `env.PATH`, then in `extraDirs`; undefined when there
 * is none. `name` is a bare name (no slash).
 */
export function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  extraDirs: readonly string[] = [],
): string | undefined {
  for (const dir of [...(env.PATH ?? '').split(delimiter), ...extraDirs]) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
