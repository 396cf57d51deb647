/** `hpo gpu-check`: an end-to-end check of a GPU machine in under 8 minutes (docs/GPU.md). */
import type { Command } from 'commander';
import { architectureNames } from '../../worker/models/registry.js';
import { gpuCheck, type GpuCheckOptions } from '../gpu-check/index.js';
import { backendOption } from '../options/backend-option.js';
import { dataDirOption } from '../options/data-options.js';
import { gpuList } from '../options/gpu-options.js';
import { oneOf, positiveInt } from '../options/option-values.js';

/** The options as commander gives them: `--budget` in seconds. */
type GpuCheckFlags = Omit<GpuCheckOptions, 'say' | 'budgetSeconds'> & { budget: number };

export function registerGpuCheck(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('gpu-check')
    .description(
      'check this machine trains on its GPUs: cnn steps on the GPU, then a search with several trials per GPU (images/s, utilisation)',
    )
    .addOption(backendOption().default('tensorflow-gpu'))
    .option(
      '--gpus <list>',
      'GPUs for the search (as hpo worker --gpus; default: every GPU nvidia-smi lists)',
      gpuList,
    )
    .option('--slots-per-gpu <n>', 'trials sharing each GPU in the search', positiveInt, 4)
    .option('--steps <n>', 'timed training steps of part 1', positiveInt, 300)
    .option('--batch <n>', 'batch size of part 1', positiveInt, 64)
    .option('--arch <name>', 'model of both parts', oneOf(architectureNames()), 'cnn')
    .option('--trials <n>', 'trials of the search', positiveInt, 20)
    .option('--train-size <n>', 'training pairs per trial', positiveInt, 8192)
    .option('--epochs <n>', 'epochs per trial', positiveInt, 1)
    .option('--nats <url>', 'use this NATS server for the search (default: start nats-server on a free port)')
    .addOption(dataDirOption())
    .option('--budget <s>', 'stop the search and fail past this many seconds in all', positiveInt, 480)
    .option('--out <file>', 'write the report as JSON here')
    .action(async (flags: GpuCheckFlags) => {
      const { budget, ...rest } = flags;
      const report = await gpuCheck({
        ...rest,
        budgetSeconds: budget,
        say: (line) => process.stdout.write(`gpu-check: ${line}\n`),
      });
      setExitCode(report.gpu_result ? 0 : 1);
    });
}
