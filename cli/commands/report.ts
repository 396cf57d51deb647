/** `hpo report NAME... --out DIR`: report.md, report.html (self-contained) and plots/ for experiments. */
import type { Command } from 'commander';
import { writeReport } from '../../orchestrator/report/index.js';
import { addDbOption, withExistingStore } from '../options/store-options.js';
import { addForceOption, checkOutDir } from '../options/out-path.js';

export function registerReport(program: Command): void {
  addForceOption(
    addDbOption(
      program
        .command('report')
        .description(
          'write a report of one or more experiments: leaderboard, learning curves, parameter plots, ' +
            "hardware and data (and, for the MNIST task, the seed report's table beside ours)",
        )
        .argument('<names...>', 'experiments (several: reported together, e.g. the SGD and Adam runs)')
        .requiredOption('--out <dir>', 'folder for report.md, report.html and plots/'),
    ),
  ).action((names: string[], flags: { db: string; out: string; force?: boolean }) =>
    withExistingStore(flags.db, async (store) => {
      checkOutDir(flags.out, { force: flags.force, files: ['report.md', 'report.html', 'plots'] });
      const r = await writeReport(store, names, flags.out);
      process.stdout.write(
        `${r.markdown}\n${r.html}\n${r.plots.length} plot(s) in ${flags.out}/plots; ` +
          `${r.data.leaderboard.length} finished trial(s) of ${r.data.trials.length}\n`,
      );
    }),
  );
}
