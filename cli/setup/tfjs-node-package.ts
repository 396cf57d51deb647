/**
 * Where tfjs-node lives for hpo: the package hpo's backend selection imports (resolved from hpo's own
 * files, as worker/backends/backend.ts resolves it), and installing it without its download script when
 * it is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { runTool } from './run-tool.js';

export type NodePackageName = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

export function nodePackageName(gpu: boolean): NodePackageName {
  return gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
}

/** The N-API binding tfjs-node loads on Node >= 12 (node-pre-gyp picks napi-v8, the highest it ships). */
export function bindingFile(pkgDir: string): string {
  return join(pkgDir, 'lib', 'napi-v8', 'tfjs_binding.node');
}

/** The package's folder as hpo resolves it, or undefined when hpo cannot import it. */
export function resolvePackageDir(pkg: string): string | undefined {
  // A fresh require each time: resolution results are cached per require function.
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

/** The @tensorflow/tfjs version hpo runs (tfjs-node is installed at the same version so npm dedupes them). */
export function hpoTfjsVersion(): string {
  const dir = resolvePackageDir('@tensorflow/tfjs');
  if (!dir) return '4.22.0';
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The npm project `start` is in: the nearest folder upwards with a package.json. */
export function projectDir(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function declared(project: string, pkg: string): boolean {
  const json = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as Record<string, unknown>;
  const fields = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
  return fields.some((f) => typeof json[f] === 'object' && json[f] !== null && pkg in (json[f] as object));
}

/**
 * `npm install --ignore-scripts pkg@version` in the project: without its install script, which would
 * download libtensorflow. A package the project already declares is installed without touching its
 * package.json; otherwise it is saved as an optional dependency (an offline `npm install` then drops it
 * instead of failing).
 */
export async function installPackage(pkg: string, version: string, project: string): Promise<void> {
  const save = declared(project, pkg) ? '--no-save' : '--save-optional';
  await runTool(
    'npm',
    ['install', '--ignore-scripts', save, '--no-audit', '--no-fund', `${pkg}@${version}`],
    { cwd: project, what: `npm install --ignore-scripts ${pkg}@${version} in ${project}` },
  );
}
