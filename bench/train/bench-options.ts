/** bench-train's command line: its options, their parsers, and the fixed settings of every run. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { architectureNames } from '../../worker/models/registry.js';

export const BENCH_BACKENDS = ['wasm', 'tensorflow', 'cpu'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];
/** Backends of the 1-thread / 2-thread pool measurement. */
export const POOL_BACKENDS = ['wasm', 'tensorflow'] as const;
export type PoolBackend = (typeof POOL_BACKENDS)[number];
/** Architectures benchmarked on cpu by default (cpu is ~1000x slower on the conv models). */
export const DEFAULT_CPU_ARCHS = ['cnn', 'mlp'];
/** The architectures without convolutions (timed like the others on cpu). */
export const DENSE_ARCHS = new Set(['mlp', 'mlp_linear']);
export const LEARNING_RATE = 0.001;
export const SEED = 1;

export interface BenchTrainOptions {
  out: string;
  arch?: string[];
  backend: BenchBackend[];
  batch: number[];
  warmupSeconds: number;
  minSeconds: number;
  minSteps: number;
  maxSteps: number;
  cpuConvBatch: number;
  cpuConvSteps: number;
  threads: boolean;
  threadsOnly: boolean;
  threadsArch: string;
  threadsBatch: number;
  threadsTrainSize: number;
  threadsBackend: PoolBackend[];
  profile: string[];
  /** A Python with torch: also time the same models and step on PyTorch CPU (torch-step.py). */
  compareTorch?: string;
  dataDir?: string;
}

function list<T>(parse: (item: string) => T): (value: string) => T[] {
  return (value) =>
    value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(parse);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected an integer > 0.');
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0.');
  return n;
}

function archName(value: string): string {
  if (!architectureNames().includes(value)) {
    throw new InvalidArgumentError(
      `unknown architecture; expected one of: ${architectureNames().join(', ')}.`,
    );
  }
  return value;
}

function oneOf<T extends string>(names: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(names as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of: ${names.join(', ')}.`);
    }
    return value as T;
  };
}

export function parseOptions(argv: string[]): BenchTrainOptions {
  const program = new Command('bench-train')
    .description('Training images/s per architecture and backend, against a conv2d ceiling of the same run')
    .option('--out <file>', 'JSON output file', 'bench-train.json')
    .option(
      '--arch <names>',
      `comma-separated architectures (default: all on wasm; ${DEFAULT_CPU_ARCHS.join(', ')} on cpu)`,
      list(archName),
    )
    .addOption(
      new Option(
        '--backend <names>',
        'comma-separated backends: wasm, tensorflow (skipped, saying why, when tfjs-node does not load), cpu',
      )
        .argParser(list(oneOf(BENCH_BACKENDS)))
        .default(['wasm', 'tensorflow', 'cpu'], 'wasm,tensorflow,cpu'),
    )
    .addOption(
      new Option('--batch <sizes>', 'comma-separated batch sizes')
        .argParser(list(positiveInt))
        .default([32, 64], '32,64'),
    )
    .option(
      '--warmup-seconds <s>',
      'untimed steps first, for at least this long (and 2 steps)',
      nonNegative,
      2,
    )
    .option('--min-seconds <s>', 'timed steps: at least this long ...', nonNegative, 3)
    .option('--min-steps <n>', '... and at least this many', positiveInt, 5)
    .option('--max-steps <n>', 'at most this many timed steps', positiveInt, 2000)
    .option(
      '--cpu-conv-batch <n>',
      'batch of the conv models on cpu, instead of --batch (a cpu step of the cnn at batch 32 takes minutes)',
      positiveInt,
      2,
    )
    .option(
      '--cpu-conv-steps <n>',
      'timed steps of the conv models on cpu (after 1 warm-up step)',
      positiveInt,
      2,
    )
    .option('--no-threads', 'skip the 1-thread vs 2-thread trial pool measurement')
    .option('--threads-only', 'only the trial pool measurement (no per-architecture rows)')
    .option('--threads-arch <name>', 'architecture of the pool trials', archName, 'cnn2')
    .option('--threads-batch <n>', 'batch size of the pool trials', positiveInt, 64)
    .option('--threads-train-size <n>', 'training images of a pool trial (1 epoch)', positiveInt, 1920)
    .addOption(
      new Option('--threads-backend <names>', 'backends of the pool measurement')
        .argParser(list(oneOf(POOL_BACKENDS)))
        .default(['wasm', 'tensorflow'], 'wasm,tensorflow'),
    )
    .option(
      '--compare-torch <python>',
      'also time the same models and step on PyTorch CPU, one thread, with this Python (it needs torch)',
    )
    .addOption(
      new Option(
        '--profile <names>',
        'architectures whose steps are also timed per kernel (not on cpu conv rows)',
      )
        .argParser(list(archName))
        .default(['cnn', 'scnn2', 'mlp'], 'cnn,scnn2,mlp'),
    )
    .option('--data-dir <dir>', 'data set cache folder (default: the hpo cache)');
  program.parse(argv);
  return program.opts<BenchTrainOptions>();
}
