/**
 * `hpo setup tensorflow [--gpu] [--wheel FILE]`: gives hpo a libtensorflow backend where tfjs-node's own
 * install cannot download libtensorflow (offline or air-gapped machines, or a newer TensorFlow than the
 * 2.9.1 it downloads). It installs @tensorflow/tfjs-node(-gpu) without its install script when missing,
 * fetches TensorFlow's pip wheel (or takes --wheel), builds the package's N-API binding against the
 * wheel's libtensorflow with node-gyp in a staging folder, swaps the result in and checks it in a child
 * process; a failed build or check leaves the previous install as it was.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SetupError, SetupUnavailableError, UsageError } from '../../shared/errors.js';
import { buildBinding } from './build-binding.js';
import { type BuildTools, findBuildTools } from './build-tools.js';
import { type BindingCheck, checkBinding } from './check-binding.js';
import { swapBinding } from './swap-binding.js';
import {
  inspectTensorflowWheel,
  pipDownload,
  unpackNvidiaWheels,
  unpackTensorflowWheel,
  type WheelInfo,
  wheelRequirement,
} from './tensorflow-wheel.js';
import {
  bindingFile,
  hpoTfjsVersion,
  installPackage,
  nodePackageName,
  projectDir,
  resolvePackageDir,
} from './tfjs-node-package.js';

/** The TensorFlow release `hpo setup tensorflow` builds against unless told otherwise. */
export const DEFAULT_TF_VERSION = '2.21.0';

export interface SetupTensorflowOptions {
  /** The CUDA 12 `tensorflow` wheel and its NVIDIA libraries, into @tensorflow/tfjs-node-gpu. */
  gpu: boolean;
  /** A TensorFlow wheel file to build from instead of `pip download`. */
  wheel?: string;
  /** TensorFlow version to download (ignored with `wheel`). */
  tfVersion: string;
  /** npm project to install tfjs-node into when hpo cannot import it; default: the one around the cwd. */
  project?: string;
  /** Rebuild even when a working binding of the same TensorFlow version is installed. */
  force: boolean;
  /** Find the tools and download the wheels, but install and build nothing. */
  dryRun: boolean;
  /** Progress lines. */
  say: (line: string) => void;
}

export interface SetupResult {
  action: 'built' | 'unchanged' | 'dry-run';
  package: string;
  /** The package folder (undefined: dry run and not installed). */
  pkgDir?: string;
  /** What the binding was built from: a wheel file or a pip requirement. */
  source: string;
  check?: BindingCheck;
}

async function ensurePackage(pkg: string, options: SetupTensorflowOptions): Promise<string> {
  const found = resolvePackageDir(pkg);
  if (found) return found;
  const project = options.project ? resolve(options.project) : projectDir(process.cwd());
  if (!project || !existsSync(join(project, 'package.json'))) {
    throw new UsageError(
      `${pkg} is not installed and there is no npm project here to install it into (--project DIR)`,
    );
  }
  const version = hpoTfjsVersion();
  options.say(`installing ${pkg}@${version} into ${project} without its install script (npm)`);
  const other = nodePackageName(!options.gpu);
  const otherBefore = resolvePackageDir(other);
  await installPackage(pkg, version, project);
  // npm also installs the project's other tfjs-node package when it is declared and missing, without
  // its script, so without a binding: remove it again (auto would try it first and fail).
  const otherAfter = resolvePackageDir(other);
  if (!otherBefore && otherAfter && !existsSync(bindingFile(otherAfter))) {
    rmSync(otherAfter, { recursive: true, force: true });
    options.say(`removed ${other}, which npm installed alongside without a binding`);
  }
  const dir = resolvePackageDir(pkg);
  if (!dir) {
    throw new SetupError(
      `installed ${pkg} into ${project}, but hpo (${resolvePackageDir('@tensorflow/tfjs') ?? '?'}) does not find it there; pass --project with the project hpo is installed in`,
    );
  }
  return dir;
}

/** The installed binding's check when it already runs the wanted TensorFlow, else undefined (saying why). */
async function currentInstall(
  pkgDir: string,
  backend: 'tensorflow' | 'tensorflow-gpu',
  options: SetupTensorflowOptions,
): Promise<BindingCheck | undefined> {
  if (options.force || options.wheel || !existsSync(bindingFile(pkgDir))) return undefined;
  try {
    const check = await checkBinding(backend);
    if (check.tfVersion === options.tfVersion) return check;
    options.say(`the installed binding runs TensorFlow ${check.tfVersion}; building ${options.tfVersion}`);
  } catch (err) {
    options.say(
      `the installed binding does not work (${(err as Error).message.split('\n')[0]}); rebuilding it`,
    );
  }
  return undefined;
}

interface Wheels {
  wheel: string;
  info: WheelInfo;
  /** The NVIDIA wheels of a GPU build. */
  nvidia: string[];
}

async function download(python: string, reqs: string[], dest: string): Promise<string[]> {
  try {
    const wheels = await pipDownload(python, reqs, dest);
    if (wheels.length === 0) throw new SetupError(`pip download ${reqs.join(' ')} saved no wheel`);
    return wheels;
  } catch (err) {
    const what = reqs.length === 1 ? `no ${reqs[0]} wheel` : `not all of ${reqs.join(' ')}`;
    throw new SetupUnavailableError(
      `${what} can be had here (or pass --wheel FILE): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Downloads (or takes) the wheel and, for GPU builds, its NVIDIA wheels; checks the wheel's contents. */
async function fetchWheels(
  downloads: string,
  python: string,
  options: SetupTensorflowOptions,
): Promise<Wheels> {
  let wheel = options.wheel;
  if (!wheel) {
    const req = wheelRequirement(options.gpu, options.tfVersion);
    options.say(`downloading ${req} (pip download --no-deps)`);
    [wheel] = await download(python, [req], downloads);
  }
  const info = await inspectTensorflowWheel(python, wheel);
  if (!options.gpu) return { wheel, info, nvidia: [] };
  if (info.cudaRequirements.length === 0) {
    throw new SetupError(
      `${wheel} lists no NVIDIA libraries (extra "and-cuda"): not a CUDA build of TensorFlow`,
    );
  }
  options.say(`downloading its NVIDIA libraries: ${info.cudaRequirements.join(' ')}`);
  return { wheel, info, nvidia: await download(python, info.cudaRequirements, downloads) };
}

/** Unpacks the wheels into a staging folder in the package, builds there, swaps in, checks; undoes on failure. */
async function buildAndSwap(
  pkgDir: string,
  wheels: Wheels,
  tools: BuildTools,
  options: SetupTensorflowOptions,
) {
  const pkg = nodePackageName(options.gpu);
  // Staged inside the package, so moving the result in is a rename.
  const staging = mkdtempSync(join(pkgDir, '.hpo-setup-'));
  try {
    options.say(`unpacking libtensorflow and its headers from ${wheels.wheel}`);
    await unpackTensorflowWheel(tools.python, wheels.wheel, join(staging, 'wheel'));
    const nvidiaDir = wheels.nvidia.length > 0 ? join(staging, 'cuda') : undefined;
    if (nvidiaDir) {
      const libs = await unpackNvidiaWheels(tools.python, wheels.nvidia, nvidiaDir);
      options.say(`unpacked ${libs.length} NVIDIA libraries from ${wheels.nvidia.length} wheels`);
    }
    options.say(
      `building ${pkg}'s binding against ${wheels.info.name || 'the wheel'} ${wheels.info.version} (node-gyp)`,
    );
    const staged = await buildBinding({
      pkgDir,
      wheelDir: join(staging, 'wheel'),
      tools,
      staging,
      ...(nvidiaDir ? { nvidiaDir } : {}),
    });
    const swap = swapBinding(pkgDir, staged, join(staging, 'previous'));
    try {
      const check = await checkBinding(options.gpu ? 'tensorflow-gpu' : 'tensorflow');
      swap.commit();
      return check;
    } catch (err) {
      swap.restore();
      throw new SetupError(
        `the new binding failed its check; the previous install is back in place.\n${(err as Error).message}`,
        { cause: err },
      );
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export async function setupTensorflow(options: SetupTensorflowOptions): Promise<SetupResult> {
  if (options.wheel !== undefined && !existsSync(options.wheel)) {
    throw new UsageError(`--wheel ${options.wheel}: no such file`);
  }
  const pkg = nodePackageName(options.gpu);
  const tools = findBuildTools();
  const source = options.wheel ? resolve(options.wheel) : wheelRequirement(options.gpu, options.tfVersion);
  const installed = resolvePackageDir(pkg);
  if (installed && !options.dryRun) {
    const check = await currentInstall(installed, options.gpu ? 'tensorflow-gpu' : 'tensorflow', options);
    if (check) return { action: 'unchanged', package: pkg, pkgDir: installed, source, check };
  }
  // Everything that may be unavailable here is fetched before anything in the project changes.
  const downloads = mkdtempSync(join(tmpdir(), 'hpo-setup-'));
  try {
    const wheels = await fetchWheels(downloads, tools.python, options);
    if (options.dryRun)
      return { action: 'dry-run', package: pkg, ...(installed ? { pkgDir: installed } : {}), source };
    const pkgDir = installed ?? (await ensurePackage(pkg, options));
    const check = await buildAndSwap(pkgDir, wheels, tools, options);
    return { action: 'built', package: pkg, pkgDir, source, check };
  } finally {
    rmSync(downloads, { recursive: true, force: true });
  }
}
