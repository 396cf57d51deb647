import type { Command } from 'commander';
import { loadDataset, type TwoDigitDataset } from '../../worker/data/index.js';
import { seedValue } from './option-values.js';

export interface DataOptions {
  dataDir?: string;
  dataFile?: string;
  dataSeed?: number;
}

/** Adds the options that say which data set a command uses. */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .option(
      '--data-dir <dir>',
      'cache folder of generated data sets (default: $HPO_DATA_DIR or ~/.cache/hpo/data)',
    )
    .option(
      '--data-file <file>',
      'use this data file (hpo two-digit format, see docs/DATA.md) instead of generating',
    )
    .option('--data-seed <n>', 'seed of the generated data set (default: 1)', seedValue);
}

export function loadDataFor(opts: DataOptions): Promise<TwoDigitDataset> {
  return loadDataset({
    // A user's file has no seed; a generated set defaults to seed 1.
    seed: opts.dataFile === undefined ? (opts.dataSeed ?? 1) : opts.dataSeed,
    dataDir: opts.dataDir,
    file: opts.dataFile,
  });
}
