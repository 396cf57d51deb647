/**
 * The programs `hpo setup tensorflow` needs, found before anything is downloaded: Python 3 (pip and the
 * wheel's unzip), node-gyp (npm's bundled copy), make and a C++ compiler, and Node's headers (so node-gyp
 * need not download them).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SetupUnavailableError } from '../../shared/errors.js';
import { executableAt, findExecutable } from '../find-executable.js';

export interface BuildTools {
  python: string;
  /** node-gyp's JS entry point, run with this node. */
  nodeGyp: string;
  /** A folder with include/node/node_api.h, or undefined (node-gyp then downloads the headers). */
  nodeDir?: string;
}

function npmGlobalRoot(): string | undefined {
  try {
    return execFileSync('npm', ['root', '-g'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** node-gyp: $npm_config_node_gyp (set when npm runs a script), npm's bundled copy, or node-gyp on PATH. */
export function findNodeGyp(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const bundled = 'npm/node_modules/node-gyp/bin/node-gyp.js';
  const candidates = [
    env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', bundled),
    npmGlobalRoot() && join(npmGlobalRoot() as string, bundled),
  ];
  const found = candidates.find((c) => c !== undefined && c !== '' && existsSync(c));
  if (found) return found;
  return findExecutable('node-gyp', env);
}

/** Node's headers: `npm config get nodedir`, else the folder this node was installed to, when it has them. */
export function findNodeDir(): string | undefined {
  const candidates: string[] = [join(dirname(process.execPath), '..')];
  try {
    const configured = execFileSync('npm', ['config', 'get', 'nodedir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (configured && configured !== 'undefined') candidates.unshift(configured);
  } catch {
    // npm not usable: the install prefix may still have the headers
  }
  return candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));
}

/** Finds every tool or throws one SetupError listing all that are missing and how to get them. */
export function findBuildTools(env: NodeJS.ProcessEnv = process.env): BuildTools {
  const python = env.HPO_PYTHON ? executableAt(env.HPO_PYTHON) : findExecutable('python3', env);
  const nodeGyp = findNodeGyp(env);
  const missing: string[] = [];
  if (!python)
    missing.push(
      `python3 with pip (${env.HPO_PYTHON ? `HPO_PYTHON=${env.HPO_PYTHON} is not executable` : 'or name it with HPO_PYTHON'})`,
    );
  if (!nodeGyp) missing.push('node-gyp (it comes with npm; or `npm i -g node-gyp`)');
  if (!findExecutable('make', env)) missing.push('make');
  if (!findExecutable('g++', env) && !findExecutable('c++', env)) missing.push('a C++ compiler (g++)');
  if (missing.length > 0) {
    throw new SetupUnavailableError(
      `hpo setup tensorflow needs ${missing.join(', ')}; on Debian/Ubuntu: apt-get install -y python3-pip make g++`,
    );
  }
  const nodeDir = findNodeDir();
  return { python: python as string, nodeGyp: nodeGyp as string, ...(nodeDir ? { nodeDir } : {}) };
}
