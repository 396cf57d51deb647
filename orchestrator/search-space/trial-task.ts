/**
 * What a file's trials run: its `task` (a built-in name or a module), or W&B's `program` (a command task
 * named after the program's file), or, for a file that names neither (a W&B sweep driven by
 * `wandb.agent(function=...)`), what the caller gives (`hpo search FILE --task / --program`). A file with
 * neither, and nothing given, is still a valid search space: its task is NO_TASK until one is given.
 */
import { posix } from 'node:path';
import { COMMAND_MACROS, isUnknownMacro } from '../../shared/command-macros.js';
import type { TrialParams } from '../../shared/protocol/index.js';
import { show } from './schema.js';
import { allScopes, type ParsedScope } from './parse-params.js';
import type { PathSegment, TaskCatalog } from './task-catalog.js';

type Report = (path: readonly PathSegment[], message: string) => void;

/** The task of a space whose file names neither task nor program (nothing can run it yet). */
export const NO_TASK = '';

/** What the caller runs a file's trials with, when the file names neither task nor program. */
export type RunWith = { task: string } | { program: string };

/**
 * Puts the caller's task or program into the file's data, as if the file said it. A file that already
 * names one is an issue (the caller's would silently replace it).
 */
export function applyRunWith(data: Record<string, unknown>, run: RunWith | undefined, report: Report): void {
  if (run === undefined) return;
  const own = (['task', 'program'] as const).find((k) => k in data);
  if (own !== undefined) {
    const given = 'task' in run ? `task ${show(run.task)}` : `program ${show(run.program)}`;
    report(
      [own],
      `the file names its ${own} (${show(data[own])}); the ${given} given to run it would replace it: remove one of them`,
    );
    return;
  }
  Object.assign(data, run);
}

export interface TrialTask {
  /** The task's name; undefined when the file's `task` / `program` is malformed (already reported). */
  task: string | undefined;
  /** A W&B program (command task): open parameters, any metric. */
  commandTask: boolean;
  /** A known task whose parameter rules, metrics and defaults apply. */
  known: boolean;
  /** W&B `command` of a command task. */
  command?: string[];
}

/** The file's task (see the file comment), reporting an unknown task name or command macro. */
export function trialTask(
  data: Record<string, unknown>,
  ok: (key: string) => boolean,
  tasks: TaskCatalog,
  report: Report,
): TrialTask {
  if (!('task' in data) && 'program' in data) {
    let command: string[] | undefined;
    if (ok('command')) {
      command = (data.command as unknown[]).map(String);
      command.forEach((item, i) => {
        if (isUnknownMacro(item)) {
          report(
            ['command', i],
            `unknown macro; expected one of ${COMMAND_MACROS.join(', ')}, got ${show(item)}`,
          );
        }
      });
    }
    const task = ok('program') ? posix.basename((data.program as string).replace(/\\/g, '/')) : undefined;
    return { task, commandTask: true, known: false, ...(command ? { command } : {}) };
  }
  if (!('task' in data)) return { task: NO_TASK, commandTask: false, known: false };
  if (!ok('task')) return { task: undefined, commandTask: false, known: false };
  const task = data.task as string;
  const names = tasks.names();
  if (!names.includes(task)) {
    report(['task'], `expected one of ${names.join(', ')}, got ${show(task)}`);
    return { task: undefined, commandTask: false, known: false };
  }
  return { task, commandTask: false, known: true };
}

/** The task whose parameter rules, metrics and defaults apply (a known task), else undefined. */
export function knownTask(trial: TrialTask): string | undefined {
  return trial.known ? trial.task : undefined;
}

/** The values of a known task's parameters when the file does not give them ({} for any other task). */
export function taskDefaults(task: string | undefined, tasks: TaskCatalog): Readonly<TrialParams> {
  if (task === undefined) return {};
  return tasks.defaults?.(task) ?? {};
}

/** Checks every scope's parameters against a known task's rules, reporting at the entries' own paths. */
export function checkTaskParams(
  task: string | undefined,
  parsed: ParsedScope,
  tasks: TaskCatalog,
  report: Report,
): void {
  if (task === undefined || !tasks.validateParams) return;
  for (const scope of allScopes(parsed)) {
    tasks.validateParams(task, scope.specs, (path, message) => {
      const entry = typeof path[1] === 'string' ? scope.paths.get(path[1]) : undefined;
      report(entry ? [...entry, ...path.slice(2)] : path, message);
    });
  }
}
