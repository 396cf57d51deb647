import * as tf from '@tensorflow/tfjs';
import { plainTable } from '../plain-table.js';
import type { Command } from 'commander';
import { ARCHITECTURES, disposeModel } from '../../worker/models/index.js';
import { jsonOption } from '../options/output-options.js';

export interface ModelSummary {
  name: string;
  params: number;
  description: string;
}

export async function modelSummaries(): Promise<ModelSummary[]> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  return [...ARCHITECTURES.values()].map((arch) => {
    const model = arch.build({ seed: 1 });
    const params = model.countParams();
    disposeModel(model);
    return { name: arch.name, params, description: arch.description };
  });
}

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list the model architectures with their parameter counts')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const rows = await modelSummaries();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const table = plainTable(['name', 'params', 'description']);
      for (const r of rows) table.push([r.name, r.params.toLocaleString('en-US'), r.description]);
      process.stdout.write(`${table.toString()}\n`);
    });
}
