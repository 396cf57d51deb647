import { writeFile } from 'node:fs/promises';
import { plainTable } from '../plain-table.js';
import type { Command } from 'commander';
import { datasetInfo, renderPreviewPng, SPLIT_NAMES, type SplitName } from '../../worker/data/index.js';
import { addDataOptions, type DataOptions, loadDataFor } from '../options/data-options.js';
import { encodeDigitPng } from '../../worker/model-files/image.js';
import { IMAGE_BYTES } from '../../worker/data/constants.js';
import { UsageError } from '../../shared/errors.js';
import { nonNegativeInt, oneOf, positiveInt } from '../options/option-values.js';
import { jsonOption } from '../options/output-options.js';

export function registerData(program: Command): void {
  const data = program.command('data').description('the two-digit MNIST data set');

  addDataOptions(
    data
      .command('info')
      .description('split sizes, image size, per-class label counts and sha256 (generates the set if needed)')
      .addOption(jsonOption()),
  ).action(async (opts: DataOptions & { json?: boolean }) => {
    const info = datasetInfo(await loadDataFor(opts));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return;
    }
    process.stdout.write(`file:   ${info.file}\nsha256: ${info.sha256}\nseed:   ${info.seed ?? '-'}\n`);
    process.stdout.write(`image:  ${info.height}x${info.width} (rows x columns)\n`);
    const table = plainTable([
      'split',
      'count',
      'labels',
      ...Array.from({ length: 10 }, (_, i) => String(i)),
    ]);
    for (const name of SPLIT_NAMES) {
      const s = info.splits[name];
      table.push([name, s.count, 'top', ...s.top], ['', '', 'bottom', ...s.bottom]);
    }
    process.stdout.write(`${table.toString()}\n`);
  });

  addDataOptions(
    data
      .command('preview')
      .description('write a PNG grid of images with their (top, bottom) labels')
      .requiredOption('--out <file.png>', 'PNG file to write')
      .option(
        '--split <name>',
        `split to show (${SPLIT_NAMES.join(', ')})`,
        oneOf(SPLIT_NAMES),
        'test' as SplitName,
      )
      .option('--count <n>', 'number of images', positiveInt, 32),
  ).action(async (opts: DataOptions & { out: string; split: SplitName; count: number }) => {
    const ds = await loadDataFor(opts);
    const split = ds[opts.split];
    const count = Math.min(opts.count, split.count);
    await writeFile(opts.out, renderPreviewPng(split, { count }));
    process.stderr.write(`wrote ${opts.out}: ${count} ${opts.split} images\n`);
  });

  addDataOptions(
    data
      .command('sample')
      .description('write one image of a split as a 42x28 grayscale PNG (the input hpo predict takes)')
      .requiredOption('--out <file.png>', 'PNG file to write')
      .option('--split <name>', `split (${SPLIT_NAMES.join(', ')})`, oneOf(SPLIT_NAMES), 'test' as SplitName)
      .option('--index <n>', 'image number in the split (0-based)', nonNegativeInt, 0),
  ).action(async (opts: DataOptions & { out: string; split: SplitName; index: number }) => {
    const split = (await loadDataFor(opts))[opts.split];
    if (opts.index >= split.count) {
      throw new UsageError(
        `--index: expected 0..${split.count - 1} for the ${opts.split} split, got ${opts.index}`,
      );
    }
    const image = split.images.subarray(opts.index * IMAGE_BYTES, (opts.index + 1) * IMAGE_BYTES);
    await writeFile(opts.out, encodeDigitPng(image));
    process.stderr.write(
      `wrote ${opts.out}: ${opts.split} image ${opts.index}, labels (top ${split.top[opts.index]}, bottom ${split.bottom[opts.index]})\n`,
    );
  });
}
