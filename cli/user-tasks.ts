/**
 * User code named by a sweep file: `task: ./my-task.mjs` (a task module, resolved relative to the file)
 * or W&B's `program:` (a command task). Resolves and checks it before any trial runs (a missing file,
 * a module without a task default export, a command that cannot start: UsageError, exit 2), and builds
 * what the local pool offers for it.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../shared/errors.js';
import { DEFAULT_COMMAND } from '../shared/command-macros.js';
import {
  type AnalysedSearchSpace,
  analyseSearchSpace,
  catalogFromTasks,
  type LoadedSearchSpace,
  NO_TASK,
  type RunWith,
  type SearchSpace,
  type TaskParams,
} from '../orchestrator/search-space/index.js';
import { TASKS } from '../worker/tasks/registry.js';
import {
  commandOffer,
  commandProblem,
  fileSha256,
  isTaskModulePath,
  loadTaskModule,
  type LoadedTaskModule,
  TaskOffers,
} from '../worker/tasks/index.js';

function builtinParams(): Record<string, TaskParams> {
  const tasks: Record<string, TaskParams> = {};
  for (const task of TASKS.values()) tasks[task.name] = task.params;
  return tasks;
}

/**
 * The task module a sweep names, when it names one: its own `task` when it is a module path, else (a file
 * that names neither task nor program) the caller's `--task` when that is one.
 */
function moduleRef(text: string, run: RunWith | undefined): string | undefined {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch {
    return undefined; // the parser reports it
  }
  const own = data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {};
  const task =
    'task' in own || 'program' in own
      ? run
        ? undefined
        : own.task
      : run && 'task' in run
        ? run.task
        : undefined;
  return typeof task === 'string' && isTaskModulePath(task) ? task : undefined;
}

export interface SweepTaskOptions {
  /** Folder relative paths in the file are resolved against. */
  baseDir: string;
  /** Extra tasks by name (the library's in-process task), with their parameter rules. */
  tasks?: Record<string, TaskParams>;
  /** A grid with more configurations than this is refused (default DEFAULT_MAX_GRID). */
  maxGrid?: number;
  /** What a file that names neither task nor program runs (--task / --program; paths absolute). */
  run?: RunWith;
}

/** Why this machine cannot run a file's program (a warning: workers elsewhere may run it). */
export interface CannotRunHere {
  reason: string;
  /** The program file itself is missing: nothing to identify it to workers by, no search can start. */
  missingFile: boolean;
}

/** A parsed sweep, and why this machine cannot run its program, if it cannot. */
export interface AnalysedSweep extends AnalysedSearchSpace {
  cannotRunHere?: CannotRunHere;
}

/**
 * The command task of a file's `program`, or why this machine cannot run it: a program or interpreter
 * missing here is reported as a warning, not an error, since workers elsewhere may run it.
 */
function resolveProgram(analysed: AnalysedSweep, baseDir: string): void {
  const { space } = analysed;
  const path = resolve(baseDir, space.program!);
  let offer;
  try {
    offer = commandOffer(path, space.command);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file here' : (err as Error).message;
    analysed.cannotRunHere = {
      reason: `program ${space.program}: ${why} (looked for ${path})`,
      missingFile: true,
    };
    analysed.warnings.push({
      path: 'program',
      message: `${why} (looked for ${path}); hpo search needs the file, since its content identifies the program to workers`,
    });
    return;
  }
  space.task = offer.name;
  space.task_source = { kind: 'command', path, sha256: offer.sha256 };
  const problem = commandProblem(offer);
  if (problem) {
    analysed.cannotRunHere = { reason: `program ${space.program}: ${problem}`, missingFile: false };
    analysed.warnings.push({
      path: 'program',
      message: `${problem} on this machine: fine for workers elsewhere that have it, but hpo search without --nats refuses to start`,
    });
  }
}

/** Parses sweep text, resolving a task module or command program in it (see the file comment). */
export async function parseSweepWithTasks(
  text: string,
  file: string,
  options: SweepTaskOptions,
): Promise<AnalysedSweep> {
  const ref = moduleRef(text, options.run);
  const params = { ...builtinParams(), ...options.tasks };
  let loaded: LoadedTaskModule | undefined;
  if (ref !== undefined) {
    loaded = await loadTaskModule(isAbsolute(ref) ? ref : resolve(options.baseDir, ref));
    params[ref] = loaded.task.params;
  }
  const analysed: AnalysedSweep = analyseSearchSpace(text, {
    file,
    tasks: catalogFromTasks(params),
    maxGrid: options.maxGrid,
    ...(options.run ? { run: options.run } : {}),
  });
  const { space } = analysed;
  if (loaded) {
    space.task = loaded.task.name;
    space.task_source = { kind: 'module', path: loaded.path, sha256: loaded.sha256 };
  } else if (space.program !== undefined) {
    resolveProgram(analysed, options.baseDir);
  }
  return analysed;
}

/** Reads a sweep file's text; a missing or unreadable file is a UsageError naming it. */
export function readSweepText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new UsageError(`cannot read search-space file ${path}: ${why}`, { cause: err });
  }
}

/** A sweep file as read and parsed, and why this machine cannot run its program, if it cannot. */
export interface LoadedSweep extends LoadedSearchSpace {
  cannotRunHere?: CannotRunHere;
}

/** Reads and parses a sweep file, resolving its task (paths relative to the file). */
export async function readSweepFile(
  file: string,
  options: { maxGrid?: number; run?: RunWith } = {},
): Promise<LoadedSweep> {
  const source = readSweepText(file);
  const analysed = await parseSweepWithTasks(source, file, {
    baseDir: dirname(resolve(file)),
    maxGrid: options.maxGrid,
    ...(options.run ? { run: options.run } : {}),
  });
  return { ...analysed, source };
}

/**
 * What a local pool offers to run an experiment's user task (none for a built-in task). The file must
 * still have the content the experiment started with (a resume after an edit is refused).
 */
export function offersForSpace(space: SearchSpace, options: { bus?: boolean } = {}): TaskOffers {
  const offers = new TaskOffers();
  const source = space.task_source;
  if (!source) return offers;
  let now: string;
  try {
    now = fileSha256(source.path);
  } catch (err) {
    throw new UsageError(`task ${space.task}: cannot read ${source.path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (now !== source.sha256) {
    throw new UsageError(
      `task ${space.task}: ${source.path} changed since the experiment started (sha256 ${source.sha256.slice(0, 12)}, now ${now.slice(0, 12)}): start a new experiment`,
    );
  }
  if (source.kind === 'module') {
    return offers.add({ kind: 'module', name: space.task, sha256: source.sha256, path: source.path });
  }
  const offer = commandOffer(source.path, space.command);
  // Over NATS the workers run it (each checks its own --allow-command): this machine need not.
  const problem = options.bus ? null : commandProblem(offer);
  if (problem) throw new UsageError(`program ${space.program ?? source.path}: ${problem}`);
  return offers.add(offer);
}

/**
 * Refuses (UsageError, exit 2) to start a search of a file nothing runs: one that names neither task nor
 * program (and got neither --task nor --program), or whose program this machine cannot run when the
 * trials run here (without --nats), or cannot even read (its content identifies it to workers).
 */
export function requireRunnable(
  file: string,
  loaded: Pick<LoadedSweep, 'space' | 'cannotRunHere'>,
  options: { bus: boolean },
): void {
  if (loaded.space.task === NO_TASK) {
    throw new UsageError(
      `${file} names neither task nor program: say what a trial runs with --task (a task module such as ./my-task.mjs, or a built-in task: ${[...TASKS.keys()].join(', ')}) or --program (a training program, run as W&B's agent would)`,
    );
  }
  const cannot = loaded.cannotRunHere;
  if (cannot && (cannot.missingFile || !options.bus)) {
    throw new UsageError(
      `${file}: ${cannot.reason}${cannot.missingFile ? '' : ': the trials would run on this machine (without --nats), which cannot start it'}`,
    );
  }
}

/** Over NATS a worker runs its allowed program with W&B's default command only. */
export function checkCommandForWorkers(space: SearchSpace): void {
  if (space.task_source?.kind !== 'command' || space.command === undefined) return;
  if (JSON.stringify(space.command) === JSON.stringify(DEFAULT_COMMAND)) return;
  throw new UsageError(
    `command: workers on NATS run an allowed program only with W&B's default command (${DEFAULT_COMMAND.join(' ')}); remove command, or run this search without --nats`,
  );
}
