/**
 * `hpo validate` / `hpo search FILE --task X | --program FILE`: what the trials of a sweep file that names
 * neither `task` nor `program` run (a W&B sweep driven by `wandb.agent(function=...)`). Paths are
 * relative to the working directory (a file's own `task` / `program` are relative to the file).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import type { RunWith } from '../../orchestrator/search-space/index.js';
import { isTaskModulePath } from '../../worker/tasks/index.js';

export interface RunWithFlags {
  task?: string;
  program?: string;
}

export function addRunWithOptions(cmd: Command): Command {
  return cmd
    .option(
      '--task <module|name>',
      'for a file that names neither task nor program: run its trials with this task module (./my-task.mjs) or built-in task',
    )
    .option(
      '--program <file>',
      "for a file that names neither task nor program: run this training program per trial (W&B's default command)",
    );
}

/** The flags' task or program (module and program paths made absolute), or undefined. */
export function runWithFromFlags(flags: RunWithFlags): RunWith | undefined {
  if (flags.task !== undefined && flags.program !== undefined) {
    throw new UsageError('--task and --program: give one of them, not both');
  }
  if (flags.task !== undefined) {
    return { task: isTaskModulePath(flags.task) ? resolve(flags.task) : flags.task };
  }
  return flags.program === undefined ? undefined : { program: resolve(flags.program) };
}
