/** `hpo setup tensorflow [--gpu] [--wheel FILE]`: build tfjs-node's binding from a TensorFlow pip wheel. */
import type { Command } from 'commander';
import { DEFAULT_TF_VERSION, setupTensorflow, type SetupResult } from '../setup/index.js';
import { SetupUnavailableError, UsageError } from '../../shared/errors.js';
import { jsonOption } from '../options/output-options.js';

interface SetupFlags {
  gpu?: boolean;
  wheel?: string;
  tfVersion: string;
  project?: string;
  force?: boolean;
  dryRun?: boolean;
  ifAvailable?: boolean;
  json?: boolean;
}

function summary(r: SetupResult): string {
  if (r.action === 'dry-run') {
    return `dry run: the tools and ${r.source} are at hand; nothing was installed or built (${r.package} ${r.pkgDir ? `at ${r.pkgDir}` : 'is not installed yet'})`;
  }
  const c = r.check;
  const gpu = r.package.endsWith('-gpu') ? `, GPU device: ${c?.gpuDevice ? 'yes' : 'no'}` : '';
  const ran = `checked: backend ${c?.backend}, TensorFlow ${c?.tfVersion}, tfjs ${c?.tfjsVersion}, one matMul right${gpu}`;
  if (r.action === 'unchanged')
    return `${r.package} at ${r.pkgDir} already works; nothing done (--force rebuilds)\n${ran}`;
  return `built ${r.package}'s binding at ${r.pkgDir} from ${r.source}\n${ran}`;
}

export function registerSetup(program: Command): void {
  const setup = program.command('setup').description('install optional parts hpo can use');
  setup
    .command('tensorflow')
    .description(
      "build @tensorflow/tfjs-node's native binding from a TensorFlow pip wheel (for machines where its npm install cannot download libtensorflow)",
    )
    .option(
      '--gpu',
      'the CUDA 12 `tensorflow` wheel and its NVIDIA libraries, into @tensorflow/tfjs-node-gpu',
    )
    .option('--wheel <file>', 'build from this TensorFlow wheel instead of `pip download`')
    .option('--tf-version <version>', 'TensorFlow version to pip download', DEFAULT_TF_VERSION)
    .option(
      '--project <dir>',
      'npm project to install tfjs-node into when it is missing (default: the one here)',
    )
    .option('--force', 'rebuild even when a working binding of that version is installed')
    .option('--dry-run', 'find the tools and download the wheels; install and build nothing')
    .option(
      '--if-available',
      'where the tools or the wheel cannot be had, say so and exit 0 (for test and image setups)',
    )
    .addOption(jsonOption())
    .action(async (opts: SetupFlags) => {
      if (!/^[0-9]+\.[0-9]+(\.[0-9]+)?([a-z0-9.]*)$/i.test(opts.tfVersion)) {
        throw new UsageError(
          `--tf-version: expected a version such as ${DEFAULT_TF_VERSION}, got '${opts.tfVersion}'`,
        );
      }
      const started = Date.now();
      let result: SetupResult;
      try {
        result = await setupTensorflow({
          gpu: opts.gpu === true,
          ...(opts.wheel === undefined ? {} : { wheel: opts.wheel }),
          tfVersion: opts.tfVersion,
          ...(opts.project === undefined ? {} : { project: opts.project }),
          force: opts.force === true,
          dryRun: opts.dryRun === true,
          say: (line) => process.stderr.write(`hpo setup: ${line}\n`),
        });
      } catch (err) {
        if (!(opts.ifAvailable && err instanceof SetupUnavailableError)) throw err;
        process.stderr.write(`hpo setup: skipped, nothing changed: ${err.message}\n`);
        if (opts.json)
          process.stdout.write(`${JSON.stringify({ action: 'skipped', reason: err.message })}\n`);
        return;
      }
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...result, seconds })}\n`);
        return;
      }
      process.stdout.write(`${summary(result)}\n(${seconds} s)\n`);
    });
}
