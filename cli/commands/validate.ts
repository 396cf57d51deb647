/**
 * `hpo validate FILE`: checks a search-space file without running anything. Exit 0 when valid (prints
 * the task, the normalised space, the grid size and the warnings), 2 when not (every problem at once,
 * as `file:line: path: message`). `hpo search FILE --dry-run [N]` prints the same plus N proposals.
 */
import type { Command } from 'commander';
import { type LoadedSweep, readSweepFile } from '../user-tasks.js';
import { addRunWithOptions, type RunWithFlags, runWithFromFlags } from '../options/run-with-options.js';
import {
  DEFAULT_MAX_GRID,
  formatDuration,
  formatIssue,
  gridSize,
  type LoadedSearchSpace,
  NO_TASK,
} from '../../orchestrator/search-space/index.js';
import { describeParameters } from '../../orchestrator/search-space/describe.js';
import { positiveInt } from '../options/option-values.js';

export interface ValidateFlags {
  maxGrid: number;
}

/** Adds `--max-grid` (validate and search share it). */
export function addMaxGridOption(cmd: Command): Command {
  return cmd.option(
    '--max-grid <n>',
    'refuse a grid with more configurations than this',
    positiveInt,
    DEFAULT_MAX_GRID,
  );
}

/**
 * Reads and checks a file (throws SearchSpaceError, exit 2, listing every problem), resolving a task
 * module or a command program it names (exit 2 when missing or unusable).
 */
export function loadForRun(file: string, flags: ValidateFlags & RunWithFlags): Promise<LoadedSweep> {
  const run = runWithFromFlags(flags);
  return readSweepFile(file, { maxGrid: flags.maxGrid, ...(run ? { run } : {}) });
}

/** The `task:` line: the task, or what a file that names none needs to run. */
function taskLine(space: LoadedSearchSpace['space']): string {
  return space.task === NO_TASK
    ? 'task: none: the file names neither task nor program; run it with hpo search FILE --task MODULE|NAME or --program FILE'
    : `task: ${space.task}`;
}

/** Warnings as `hpo: warning: file:line: path: message` lines on stderr. */
export function printWarnings(file: string, loaded: LoadedSearchSpace): void {
  for (const w of loaded.warnings) process.stderr.write(`hpo: warning: ${formatIssue(file, w)}\n`);
}

/** What `validate` prints for a valid file. */
export function summary(file: string, loaded: LoadedSearchSpace): string {
  const { space, warnings } = loaded;
  const size = gridSize(space);
  const lines = [
    `${file}: valid`,
    taskLine(space),
    `method: ${space.method}`,
    `metric: ${space.metric.name} (${space.metric.goal}${space.metric.target === undefined ? '' : `, target ${space.metric.target}`})`,
    `grid size: ${size === null ? 'infinite (a parameter is continuous)' : `${size} configuration${size === 1 ? '' : 's'}`}`,
    `run_cap: ${space.run_cap ?? 'none'}`,
    `run_time_budget: ${space.run_time_budget === undefined ? 'none' : formatDuration(space.run_time_budget)}`,
  ];
  if (space.early_terminate) lines.push(`early_terminate: ${JSON.stringify(space.early_terminate)}`);
  lines.push('parameters (normalised):', ...describeParameters(space));
  if (warnings.length === 0) lines.push('warnings: none');
  else lines.push(`warnings: ${warnings.length}`, ...warnings.map((w) => `  ${formatIssue(file, w)}`));
  return `${lines.join('\n')}\n`;
}

export function registerValidate(program: Command): void {
  addRunWithOptions(
    addMaxGridOption(
      program
        .command('validate')
        .description('check a search-space file without running anything (exit 0 valid, 2 invalid)')
        .argument('<file>', 'search-space file (YAML, W&B sweep format; see docs/SEARCH-SPACES.md)')
        .option('--json', 'print the normalised space and the warnings as JSON'),
    ),
  ).action(async (file: string, flags: ValidateFlags & RunWithFlags & { json?: boolean }) => {
    const loaded = await loadForRun(file, flags);
    if (flags.json) {
      const { space, warnings } = loaded;
      process.stdout.write(
        `${JSON.stringify({ file, valid: true, grid_size: gridSize(space), space, warnings }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(summary(file, loaded));
    }
  });
}
