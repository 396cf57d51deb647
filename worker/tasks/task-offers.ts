/**
 * The tasks beyond the built-in ones that this worker (or local search) offers: task modules and command
 * programs its operator named at start. A trial names one by task name and content sha256; a trial
 * naming anything else is refused before any import or spawn.
 */
import { existsSync } from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import type { TrialSpec } from '../../shared/protocol/index.js';
import { taskLabel } from '../../shared/protocol/bus.js';
import type { CommandTask } from '../command/run-command.js';
import { buildCommandLine, commandExecutable } from '../command/command-line.js';
import { isExecutable } from '../../shared/executables.js';
import { interpreterFor, whichExecutable } from '../command/interpreter.js';
import { fileSha256 } from './task-module.js';
import { BUILTIN_TASK_NAMES } from './builtin-task-names.js';

export interface ModuleOffer {
  kind: 'module';
  name: string;
  sha256: string;
  /** Absolute path of the module file. */
  path: string;
}

export type CommandOffer = { kind: 'command' } & CommandTask;

export type TaskOffer = ModuleOffer | CommandOffer;

const NOT_OFFERED = 'this worker does not offer task ';

export { taskLabel };

/**
 * Why a command cannot run here (program missing, interpreter or executable not found / not
 * executable), or null.
 */
export function commandProblem(task: CommandTask): string | null {
  if (!existsSync(task.program)) return `program ${task.program}: no such file`;
  const argv = buildCommandLine({
    command: task.command,
    program: task.program,
    interpreter: task.interpreter,
    params: {},
    argsJsonFile: 'params.json',
  });
  const exe = commandExecutable(argv);
  if (exe === undefined) return 'the command is empty';
  if (exe === task.program && !isExecutable(exe)) {
    return `program ${task.program} is not executable (chmod +x it, or give it an interpreter by its extension: .mjs, .js, .py, .sh)`;
  }
  if (argv[0] === '/usr/bin/env' && !isExecutable('/usr/bin/env')) return '/usr/bin/env not found';
  if (!whichExecutable(exe)) return `command not found or not executable: ${exe}`;
  return null;
}

/** A command task for a program file with a sweep's `command` (default W&B's). */
export function commandOffer(program: string, command?: readonly string[]): CommandOffer {
  const path = resolve(program);
  return {
    kind: 'command',
    name: basename(path),
    sha256: fileSha256(path),
    program: path,
    ...(command ? { command } : {}),
    ...(interpreterFor(path) === undefined ? {} : { interpreter: interpreterFor(path) }),
    cwd: dirname(path),
  };
}

export class TaskOffers {
  private readonly offers: TaskOffer[] = [];

  add(offer: TaskOffer): this {
    if (!this.find(offer.name, offer.sha256)) this.offers.push(offer);
    return this;
  }

  find(name: string, sha256: string): TaskOffer | undefined {
    return this.offers.find((o) => o.name === name && o.sha256 === sha256);
  }

  /** The offer a trial names; undefined for a trial of a built-in task (no sha256). */
  forSpec(spec: TrialSpec): TaskOffer | undefined {
    return spec.task_sha256 === undefined ? undefined : this.find(spec.task, spec.task_sha256);
  }

  list(): readonly TaskOffer[] {
    return this.offers;
  }

  /**
   * Every task a worker with these offers runs: the built-in ones (by name) and each offer (name and
   * sha256). A NATS worker pulls trials of these tasks only (NatsWorkerOptions.offered).
   */
  offered(): { task: string; sha256?: string }[] {
    return [
      ...BUILTIN_TASK_NAMES.map((task) => ({ task })),
      ...this.offers.map((o) => ({ task: o.name, sha256: o.sha256 })),
    ];
  }

  /** `name@sha12` of each offer (what heartbeats and `hpo workers` show). */
  labels(): string[] {
    return this.offers.map((o) => taskLabel(o.name, o.sha256));
  }

  /**
   * Why this worker cannot run the trial's task, or null. Only looks the task up among the offers and,
   * for one it offers, checks the file still has that content and a command can still start: never
   * imports or spawns anything.
   */
  refusal(spec: TrialSpec): string | null {
    if (spec.task_sha256 === undefined) return null; // a built-in task: the pool checks its name
    const offer = this.forSpec(spec);
    const label = taskLabel(spec.task, spec.task_sha256);
    if (!offer) {
      const mine = this.labels();
      return `${NOT_OFFERED}${label} (it offers ${mine.length ? mine.join(', ') : 'built-in tasks only'})`;
    }
    let now: string;
    try {
      now = fileSha256(offer.kind === 'module' ? offer.path : offer.program);
    } catch (err) {
      return `task ${label}: cannot read ${offer.kind === 'module' ? offer.path : offer.program}: ${(err as Error).message}`;
    }
    if (now !== offer.sha256) return `task ${label}: its file changed since this worker started`;
    if (offer.kind === 'command') {
      const problem = commandProblem(offer);
      if (problem) return `task ${label}: ${problem}`;
    }
    return null;
  }
}
