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
import { SetupError, UsageError } from '../../shared/errors.js';
import { buildBinding } from './build-binding.js';
import { findBuildTools } from './build-tools.js';
import { type BindingCheck, checkBinding } from './check-binding.js';
import { swapBinding } from './swap-binding.js';
import {
  pipDownload,
  unpackNvidiaWheels,
  unpackTensorflowWheel,
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

/** Downloads (or takes) the wheel and, for GPU builds, its NVIDIA wheels; unpacks what the build needs. */
async function fetchWheels(staging: string, python: string, options: SetupTensorflowOptions) {
  let wheel = options.wheel;
  if (!wheel) {
    const req = wheelRequirement(options.gpu, options.tfVersion);
    options.say(`downloading ${req} (pip download --no-deps)`);
    [wheel] = await pipDownload(python, [req], join(staging, 'wheels'));
    if (!wheel) throw new SetupError(`pip download ${req} saved no wheel`);
  }
  options.say(`unpacking libtensorflow and its headers from ${wheel}`);
  const unpacked = await unpackTensorflowWheel(python, wheel, join(staging, 'wheel'));
  if (!options.gpu) return { wheel, unpacked };
  if (unpacked.cudaRequirements.length === 0) {
    throw new SetupError(
      `${wheel} lists no NVIDIA libraries (extra "and-cuda"): not a CUDA build of TensorFlow`,
    );
  }
  options.say(`downloading its NVIDIA libraries: ${unpacked.cudaRequirements.join(' ')}`);
  const nvidiaWheels = await pipDownload(python, unpacked.cudaRequirements, join(staging, 'wheels'));
  const nvidiaDir = join(staging, 'cuda');
  const libs = await unpackNvidiaWheels(python, nvidiaWheels, nvidiaDir);
  options.say(`unpacked ${libs.length} NVIDIA libraries from ${nvidiaWheels.length} wheels`);
  return { wheel, unpacked, nvidiaDir };
}

export async function setupTensorflow(options: SetupTensorflowOptions): Promise<SetupResult> {
  if (options.wheel !== undefined && !existsSync(options.wheel)) {
    throw new UsageError(`--wheel ${options.wheel}: no such file`);
  }
  const pkg = nodePackageName(options.gpu);
  const backend = options.gpu ? 'tensorflow-gpu' : 'tensorflow';
  const tools = findBuildTools();
  const source = options.wheel ? resolve(options.wheel) : wheelRequirement(options.gpu, options.tfVersion);
  const pkgDir = options.dryRun ? resolvePackageDir(pkg) : await ensurePackage(pkg, options);
  if (pkgDir) {
    const check = await currentInstall(pkgDir, backend, options);
    if (check) return { action: 'unchanged', package: pkg, pkgDir, source, check };
  }
  // Staged next to the package, so moving the result in is a rename; a dry run stages in the temp folder.
  const staging = mkdtempSync(
    pkgDir && !options.dryRun ? join(pkgDir, '.hpo-setup-') : join(tmpdir(), 'hpo-setup-'),
  );
  try {
    const { unpacked, nvidiaDir } = await fetchWheels(staging, tools.python, options);
    if (options.dryRun) return { action: 'dry-run', package: pkg, ...(pkgDir ? { pkgDir } : {}), source };
    const dir = pkgDir as string;
    options.say(
      `building ${pkg}'s binding against ${unpacked.name || 'the wheel'} ${unpacked.version} (node-gyp)`,
    );
    const staged = await buildBinding({
      pkgDir: dir,
      wheel: unpacked,
      tools,
      staging,
      ...(nvidiaDir ? { nvidiaDir } : {}),
    });
    const swap = swapBinding(dir, staged, join(staging, 'previous'));
    let check: BindingCheck;
    try {
      check = await checkBinding(backend);
    } catch (err) {
      swap.restore();
      throw new SetupError(
        `the new binding failed its check; the previous install is back in place.\n${(err as Error).message}`,
        { cause: err },
      );
    }
    swap.commit();
    return { action: 'built', package: pkg, pkgDir: dir, source, check };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
