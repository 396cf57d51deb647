/**
 * `hpo worker --task FILE`, `--tasks-dir DIR`, `--allow-command PATH`: the user code a worker's operator
 * allows. Modules are loaded and checked at start (a bad one is exit 2); trials can only name what is
 * here, by name and content sha256.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { positiveInt } from './option-values.js';
import { commandOffer, commandProblem, loadTaskModule, TaskOffers } from '../../worker/tasks/index.js';

export interface TaskFlags {
  task: string[];
  tasksDir?: string;
  allowCommand: string[];
  killGrace?: number;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addTaskOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--task <file>', 'offer this task module (repeatable)')
        .argParser(collect)
        .default([], 'none'),
    )
    .option('--tasks-dir <dir>', 'offer every task module (.mjs, .js, .cjs) in this folder')
    .addOption(
      new Option(
        '--allow-command <path>',
        "run command trials of this program (repeatable; W&B's default command)",
      )
        .argParser(collect)
        .default([], 'none'),
    )
    .option(
      '--kill-grace <ms>',
      'command trials: SIGTERM, then SIGKILL after this long (default 5000)',
      positiveInt,
    );
}

/** Loads and checks what the flags allow. */
export async function taskOffersFromFlags(flags: TaskFlags): Promise<TaskOffers> {
  const offers = new TaskOffers();
  const files = [...flags.task];
  if (flags.tasksDir !== undefined) {
    let names: string[];
    try {
      names = readdirSync(flags.tasksDir);
    } catch (err) {
      throw new UsageError(`--tasks-dir ${flags.tasksDir}: ${(err as Error).message}`, { cause: err });
    }
    for (const n of names.sort()) if (/\.(mjs|js|cjs)$/.test(n)) files.push(join(flags.tasksDir, n));
  }
  for (const file of files) {
    const loaded = await loadTaskModule(file);
    offers.add({ kind: 'module', name: loaded.task.name, sha256: loaded.sha256, path: loaded.path });
  }
  for (const program of flags.allowCommand) {
    let offer;
    try {
      offer = commandOffer(resolve(program));
    } catch (err) {
      throw new UsageError(`--allow-command ${program}: ${(err as Error).message}`, { cause: err });
    }
    const problem = commandProblem(offer);
    if (problem) throw new UsageError(`--allow-command ${program}: ${problem}`);
    offers.add(offer);
  }
  return offers;
}
