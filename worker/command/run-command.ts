/**
 * Runs one trial of a command task (W&B agent style): the command as a child process, without a shell,
 * in its own process group. Each JSON line on stdout is an epoch report; the scheduler's `stop` sends
 * SIGTERM to the group, then SIGKILL after the grace period; a non-zero exit fails the trial with the
 * tail of stderr. Aborting (cancel, shutdown) does the same and rejects with TrialInterruptedError.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type ExecutionHooks, TrialInterruptedError } from '../../shared/protocol/executor.js';
import {
  deliveryFields,
  epochLimit,
  resultEvent,
  type ResultEvent,
  type TrialSpec,
} from '../../shared/protocol/index.js';
import { buildCommandLine } from './command-line.js';
import { CommandRun } from './command-run.js';
import { parseEpochLine } from './json-lines.js';

/** A command task as its operator set it up (never from a bus message). */
export interface CommandTask {
  name: string;
  sha256: string;
  /** Absolute path of the program. */
  program: string;
  /** The sweep's `command` (default W&B's). */
  command?: readonly string[];
  interpreter?: string;
  /** Working directory (default: the program's folder). */
  cwd: string;
}

export interface CommandRunOptions {
  /** Worker name in results. */
  worker: string;
  /** SIGTERM → SIGKILL grace (default 5000 ms). */
  graceMs?: number;
  /** Root of the per-trial folders (HPO_TRIAL_DIR; default <tmp>/hpo-trials). */
  trialsDir?: string;
}

/** A folder name from untrusted text: letters, digits, '.', '_' and '-' only, never `.` or `..`. */
function safeName(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^\.+/, '_')
      .slice(0, 100) || '_'
  );
}

export function trialDir(root: string, spec: TrialSpec): string {
  return join(root, safeName(spec.experiment), `${safeName(spec.trial_id)}-a${spec.attempt}`);
}

export async function runCommandTrial(
  spec: TrialSpec,
  hooks: ExecutionHooks,
  task: CommandTask,
  options: CommandRunOptions,
): Promise<ResultEvent> {
  const started = Date.now();
  if (hooks.signal.aborted) throw new TrialInterruptedError(spec.trial_id);
  const dir = trialDir(options.trialsDir ?? join(tmpdir(), 'hpo-trials'), spec);
  const argv = prepareCommandLine(task, spec, dir);
  const child = spawnProgram(argv, task, spec, dir);
  const run = new CommandRun(child, options.graceMs ?? 5000);
  const onAbort = () => run.cancel();
  hooks.signal.addEventListener('abort', onAbort, { once: true });
  const linesHandled = readLinesInOrder(child.stdout!, epochLineHandler(run, spec, hooks, options.worker));

  const exit = await run.waitForExit();
  await linesHandled();
  hooks.signal.removeEventListener('abort', onAbort);
  run.reapGroup();
  if (run.interrupted) throw new TrialInterruptedError(spec.trial_id);

  const { state, error } = run.outcome(exit, argv[0], task.name);
  return resultEvent(spec, {
    state,
    metrics: run.metrics(),
    epochs: run.epochCount,
    error,
    worker: options.worker,
    started_at: started,
    ended_at: Date.now(),
  });
}

/** Makes the trial's folder, writes its params.json and gives the program's command line. */
function prepareCommandLine(task: CommandTask, spec: TrialSpec, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const argsJsonFile = join(dir, 'params.json');
  writeFileSync(argsJsonFile, `${JSON.stringify(spec.params)}\n`);
  return buildCommandLine({
    command: task.command,
    program: task.program,
    interpreter: task.interpreter,
    params: spec.params,
    argsJsonFile,
  });
}

/** Starts the program without a shell, the trial named in its environment. */
function spawnProgram(argv: string[], task: CommandTask, spec: TrialSpec, dir: string): ChildProcess {
  return spawn(argv[0], argv.slice(1), {
    cwd: task.cwd,
    env: {
      ...process.env,
      HPO_TRIAL_ID: spec.trial_id,
      HPO_EXPERIMENT: spec.experiment,
      HPO_SEED: String(spec.seed),
      HPO_TRIAL_DIR: dir,
      HPO_ATTEMPT: String(spec.attempt),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: a stop reaches its children too
  });
}

/**
 * Hands each line of `input` to `handle`, one after the other: a line waits until the one before it is
 * handled. Gives a wait for the lines read so far.
 */
function readLinesInOrder(input: Readable, handle: (line: string) => Promise<void>): () => Promise<void> {
  let chain = Promise.resolve();
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    chain = chain.then(() => handle(line));
  });
  return () => chain;
}

/** One stdout line: an epoch is reported and waits for its decision; a stop is sent on to the program. */
function epochLineHandler(
  run: CommandRun,
  spec: TrialSpec,
  hooks: ExecutionHooks,
  worker: string,
): (line: string) => Promise<void> {
  return async (line) => {
    if (!run.reporting) return;
    const parsed = parseEpochLine(line);
    if (!parsed) return run.lineIgnored(line);
    const epoch = run.epochSeen(parsed);
    let decision: 'continue' | 'stop' = 'continue';
    try {
      decision = await hooks.onEpoch({ ...deliveryFields(spec), epoch, metrics: parsed.metrics, worker });
    } catch {
      decision = 'continue';
    }
    // A stop at the trial's last epoch is not sent on: the program is ending on its own (completed).
    if (decision === 'stop' && epoch < epochLimit(spec.params)) run.stop();
  };
}
