import { childLogger } from '../../shared/log/index.js';
import type { Command } from 'commander';
import { type BackendChoice, selectBackend } from '../../worker/backends/index.js';
import { architectureNames } from '../../worker/models/index.js';
import {
  type EpochMetrics,
  OPTIMIZER_NAMES,
  type OptimizerName,
  train,
} from '../../worker/training/index.js';
import { mnistTaskParams } from '../../worker/tasks/mnist-params.js';
import { addDataOptions, type DataOptions, loadDataFor } from '../options/data-options.js';
import { positiveInt, ruleValue } from '../options/option-values.js';
import { backendOption } from '../options/backend-option.js';
import { jsonOption } from '../options/output-options.js';
import { seedOption } from '../options/seed-option.js';

interface TrainFlags extends DataOptions {
  arch: string;
  optimizer: OptimizerName;
  lr: number;
  batchSize: number;
  epochs: number;
  trainSize?: number;
  backend: BackendChoice;
  seed: number;
  json?: boolean;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

const COLUMNS: [string, number, (m: EpochMetrics) => string][] = [
  ['epoch', 5, (m) => String(m.epoch)],
  ['train_loss', 10, (m) => m.train_loss.toFixed(4)],
  ['val_loss', 9, (m) => m.val_loss.toFixed(4)],
  ['val_top', 8, (m) => pct(m.val_acc_top)],
  ['val_bottom', 10, (m) => pct(m.val_acc_bottom)],
  ['val_acc', 8, (m) => pct(m.val_acc)],
  ['val_both', 8, (m) => pct(m.val_acc_both)],
  ['seconds', 8, (m) => m.epoch_seconds.toFixed(1)],
  ['images/s', 9, (m) => m.images_per_s.toFixed(0)],
];

const row = (cells: string[]) => cells.map((c, i) => c.padStart(COLUMNS[i][1])).join('  ');

export function registerTrain(program: Command): void {
  // The flags follow the rules of the task parameters they set (multi-digit-mnist).
  const rules = mnistTaskParams({ architectures: architectureNames(), optimizers: OPTIMIZER_NAMES }).params;
  addDataOptions(
    program
      .command('train')
      .description('train one configuration and report per-epoch validation and final test accuracy')
      .requiredOption(
        '--arch <name>',
        `architecture (${rules.arch.choices.join(', ')})`,
        ruleValue(rules.arch),
      )
      .requiredOption(
        '--optimizer <name>',
        `optimizer (${rules.optimizer.choices.join(', ')})`,
        ruleValue(rules.optimizer),
      )
      .requiredOption('--lr <x>', 'learning rate', ruleValue(rules.learning_rate))
      .requiredOption('--batch-size <n>', 'batch size', ruleValue(rules.batch_size))
      .requiredOption('--epochs <n>', 'epochs', ruleValue(rules.epochs))
      // Not rules.train_size: its bound is the generated split's size, and --data-file may be larger
      // (train() checks the size against the data set in use).
      .option('--train-size <n>', 'train on the first N training pairs only', positiveInt)
      .addOption(backendOption())
      .addOption(seedOption('seed of weights and batch order', 1))
      .addOption(jsonOption('print one JSON document at the end instead of a table')),
  ).action(async (opts: TrainFlags) => {
    const dataset = await loadDataFor(opts);
    const selection = await selectBackend(opts.backend, { logger: childLogger({ component: 'backend' }) });
    const out = opts.json ? process.stderr : process.stdout;
    const showTable = !opts.json || process.stderr.isTTY;
    if (showTable) {
      out.write(
        `${opts.arch} ${opts.optimizer} lr=${opts.lr} batch=${opts.batchSize} on ${selection.backend}` +
          // tensorflow backends: whether TensorFlow found a GPU (docs/GPU.md).
          `${selection.backend.startsWith('tensorflow') && selection.device ? ` (ops on ${selection.device})` : ''}\n`,
      );
      out.write(`${row(COLUMNS.map((c) => c[0]))}\n`);
    }
    const result = await train(
      {
        arch: opts.arch,
        optimizer: opts.optimizer,
        learningRate: opts.lr,
        batchSize: opts.batchSize,
        epochs: opts.epochs,
        seed: opts.seed,
        trainSize: opts.trainSize,
      },
      dataset,
      { onEpoch: (m) => void (showTable && out.write(`${row(COLUMNS.map((c) => c[2](m)))}\n`)) },
    );
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ ...result, backend: selection.backend, tfjs_backend: result.backend, device: selection.device ?? null }, null, 2)}\n`,
      );
      return;
    }
    const t = result.test;
    out.write(
      `test: top ${pct(t.test_acc_top)}, bottom ${pct(t.test_acc_bottom)}, mean ${pct(t.test_acc)}, both ${pct(t.test_acc_both)}` +
        ` (${result.seconds.toFixed(1)} s, data ${result.data_sha256.slice(0, 12)})\n`,
    );
  });
}
