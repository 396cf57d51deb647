import { type Command, Option } from 'commander';
import { loadDataset, type TwoDigitDataset } from '../../worker/data/index.js';
import { seedValue } from './option-values.js';

export interface DataOptions {
  dataDir?: string;
  dataFile?: string;
  dataSeed?: number;
}

/** `--data-dir`: the cache folder of generated data sets (commands that train or evaluate). */
export function dataDirOption(
  description = 'data set cache folder (default: $HPO_DATA_DIR or ~/.cache/hpo/data)',
): Option {
  return new Option('--data-dir <dir>', description);
}

/** Adds the options that say which data set a command uses. */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .addOption(
      dataDirOption('cache folder of generated data sets (default: $HPO_DATA_DIR or ~/.cache/hpo/data)'),
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
    log: (msg) => process.stderr.write(`${msg}\n`),
  });
}
