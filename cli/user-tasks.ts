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

/** The `task` value of a sweep text, when it is a module path (else undefined). */
function moduleRef(text: string): string | undefined {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch {
    return undefined; // the parser reports it
  }
  const task = (data as { task?: unknown } | null)?.task;
  return typeof task === 'string' && isTaskModulePath(task) ? task : undefined;
}

export interface SweepTaskOptions {
  /** Folder relative paths in the file are resolved against. */
  baseDir: string;
  /** Extra tasks by name (the library's in-process task), with their parameter rules. */
  tasks?: Record<string, TaskParams>;
  /** A grid with more configurations than this is refused (default DEFAULT_MAX_GRID). */
  maxGrid?: number;
}

/** Parses sweep text, resolving a task module or command program in it (see the file comment). */
export async function parseSweepWithTasks(
  text: string,
  file: string,
  options: SweepTaskOptions,
): Promise<AnalysedSearchSpace> {
  const ref = moduleRef(text);
  const params = { ...builtinParams(), ...options.tasks };
  let loaded: LoadedTaskModule | undefined;
  if (ref !== undefined) {
    loaded = await loadTaskModule(isAbsolute(ref) ? ref : resolve(options.baseDir, ref));
    params[ref] = loaded.task.params;
  }
  const analysed = analyseSearchSpace(text, {
    file,
    tasks: catalogFromTasks(params),
    maxGrid: options.maxGrid,
  });
  const { space } = analysed;
  if (loaded) {
    space.task = loaded.task.name;
    space.task_source = { kind: 'module', path: loaded.path, sha256: loaded.sha256 };
  } else if (space.program !== undefined) {
    const path = resolve(options.baseDir, space.program);
    let offer;
    try {
      offer = commandOffer(path, space.command);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
      throw new UsageError(`${file}: program ${space.program}: ${why} (looked for ${path})`, { cause: err });
    }
    const problem = commandProblem(offer);
    if (problem) throw new UsageError(`${file}: program ${space.program}: ${problem}`);
    space.task = offer.name;
    space.task_source = { kind: 'command', path, sha256: offer.sha256 };
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

/** Reads and parses a sweep file, resolving its task (paths relative to the file). */
export async function readSweepFile(
  file: string,
  options: { maxGrid?: number } = {},
): Promise<LoadedSearchSpace> {
  const source = readSweepText(file);
  const { space, warnings } = await parseSweepWithTasks(source, file, {
    baseDir: dirname(resolve(file)),
    maxGrid: options.maxGrid,
  });
  return { space, source, warnings };
}

/**
 * What a local pool offers to run an experiment's user task (none for a built-in task). The file must
 * still have the content the experiment started with (a resume after an edit is refused).
 */
export function offersForSpace(space: SearchSpace): TaskOffers {
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
  const problem = commandProblem(offer);
  if (problem) throw new UsageError(`program ${space.program ?? source.path}: ${problem}`);
  return offers.add(offer);
}

/** Over NATS a worker runs its allowed program with W&B's default command only. */
export function checkCommandForWorkers(space: SearchSpace): void {
  if (space.task_source?.kind !== 'command' || space.command === undefined) return;
  if (JSON.stringify(space.command) === JSON.stringify(DEFAULT_COMMAND)) return;
  throw new UsageError(
    `command: workers on NATS run an allowed program only with W&B's default command (${DEFAULT_COMMAND.join(' ')}); remove command, or run this search without --nats`,
  );
}
