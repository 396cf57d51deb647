/**
 * Builds tfjs-node's N-API binding in a staging folder: the package's binding.gyp and sources, with
 * deps/include (the wheel's headers) and deps/lib (libtensorflow_cc.so.2, also named libtensorflow.so.2,
 * libtensorflow_framework.so.2 and, for GPU builds, the NVIDIA libraries) laid out as binding.gyp expects.
 * Nothing in the installed package changes here; swap-binding.ts moves the result in.
 */
import { cpSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { BuildTools } from './build-tools.js';
import { runTool } from './run-tool.js';
import { TF_LIBRARIES } from './tensorflow-wheel.js';
import { bindingFile } from './tfjs-node-package.js';

export interface BuildBindingOptions {
  /** The installed tfjs-node(-gpu) package (only read). */
  pkgDir: string;
  /** Folder holding the wheel's `tensorflow/include` and `tensorflow/libtensorflow_*.so.2`. */
  wheelDir: string;
  /** Folder holding nvidia/<library>/lib/*.so* (GPU builds), or undefined. */
  nvidiaDir?: string;
  tools: BuildTools;
  /** An empty folder on the package's file system (the result is renamed into the package). */
  staging: string;
}

export interface StagedBinding {
  /** The new deps/ folder. */
  deps: string;
  /** The new lib/napi-v8/tfjs_binding.node. */
  binding: string;
}

function layOutDeps(options: BuildBindingOptions, deps: string): void {
  const tf = join(options.wheelDir, 'tensorflow');
  const lib = join(deps, 'lib');
  mkdirSync(lib, { recursive: true });
  renameSync(join(tf, 'include'), join(deps, 'include'));
  for (const name of TF_LIBRARIES) renameSync(join(tf, name), join(lib, name));
  // binding.gyp links -ltensorflow -ltensorflow_framework; the wheel's libtensorflow_cc carries both APIs.
  symlinkSync('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so.2'));
  symlinkSync('libtensorflow.so.2', join(lib, 'libtensorflow.so'));
  symlinkSync('libtensorflow_framework.so.2', join(lib, 'libtensorflow_framework.so'));
  if (options.nvidiaDir) {
    // As in site-packages (libtensorflow's $ORIGIN/../nvidia/*/lib), and each library also in deps/lib,
    // which the binding's and libtensorflow's run paths name.
    const nvidia = join(deps, 'nvidia');
    renameSync(join(options.nvidiaDir, 'nvidia'), nvidia);
    for (const name of readdirSync(nvidia)) {
      const dir = join(nvidia, name, 'lib');
      for (const file of readdirSync(dir))
        symlinkSync(relative(lib, join(dir, file)), join(lib, basename(file)));
    }
  }
}

/** Lays out deps/ and runs `node-gyp rebuild` in the staging folder (about 15 s on 2 cores). */
export async function buildBinding(options: BuildBindingOptions): Promise<StagedBinding> {
  const dir = join(options.staging, 'package');
  mkdirSync(dir, { recursive: true });
  for (const name of ['binding.gyp', 'binding', 'package.json']) {
    cpSync(join(options.pkgDir, name), join(dir, name), { recursive: true });
  }
  const deps = join(dir, 'deps');
  layOutDeps(options, deps);
  const binding = bindingFile(dir);
  const { nodeGyp, nodeDir, python } = options.tools;
  await runTool(
    process.execPath,
    [
      nodeGyp,
      'rebuild',
      ...(nodeDir ? [`--nodedir=${nodeDir}`] : []),
      `--python=${python}`,
      '--module_name=tfjs_binding',
      // Absolute: a relative module_path lands under build/ (gyp resolves it from there).
      `--module_path=${join(dir, 'lib', 'napi-v8')}`,
      '--napi_build_version=8',
    ],
    { cwd: dir, what: 'node-gyp rebuild of the tfjs-node binding' },
  );
  return { deps, binding };
}
