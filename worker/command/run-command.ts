/**
 * Runs one trial of a command task (W&B agent style): the command as a child process, without a shell,
 * in its own process group. Each JSON line on stdout is an epoch report; the scheduler's `stop` sends
 * SIGTERM to the group, then SIGKILL after the grace period; a non-zero exit fails the trial with the
 * tail of stderr. Aborting (cancel, shutdown) does the same and rejects with TrialInterruptedError.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ExecutionHooks, TrialInterruptedError } from '../../shared/protocol/executor.js';
import {
  deliveryFields,
  epochLimit,
  resultEvent,
  type ResultEvent,
  type TrialSpec,
} from '../../shared/protocol/index.js';
import { buildCommandLine } from './command-line.js';
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

/** Characters of stderr kept for a failed trial's error. */
const STDERR_TAIL = 2000;
/** Result metric counting ignored stdout lines (present when there were any). */
export const IGNORED_LINES_METRIC = 'hpo_ignored_lines';

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
  mkdirSync(dir, { recursive: true });
  const argsJsonFile = join(dir, 'params.json');
  writeFileSync(argsJsonFile, `${JSON.stringify(spec.params)}\n`);
  const argv = buildCommandLine({
    command: task.command,
    program: task.program,
    interpreter: task.interpreter,
    params: spec.params,
    argsJsonFile,
  });
  const child = spawn(argv[0], argv.slice(1), {
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

  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL * 2);
  });

  let epochs = 0;
  let last: Record<string, number> = {};
  let ignored = 0;
  let stopped = false;
  let interrupted = false;
  let killTimer: NodeJS.Timeout | undefined;
  let spawnError: Error | undefined;
  let exited = false;

  const signalGroup = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        // Already gone.
      }
    }
  };
  const terminate = () => {
    if (killTimer || exited) return;
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), options.graceMs ?? 5000);
  };
  const onAbort = () => {
    interrupted = true;
    terminate();
  };
  hooks.signal.addEventListener('abort', onAbort, { once: true });

  // Lines are handled in order: each epoch waits for its decision before the next is reported.
  let chain = Promise.resolve();
  const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  lines.on('line', (line) => {
    chain = chain.then(async () => {
      if (stopped || interrupted) return;
      const parsed = parseEpochLine(line);
      if (!parsed) {
        if (line.trim() !== '') ignored++;
        return;
      }
      const epoch = parsed.epoch !== undefined && parsed.epoch > epochs ? parsed.epoch : epochs + 1;
      epochs = epoch;
      last = parsed.metrics;
      let decision: 'continue' | 'stop' = 'continue';
      try {
        decision = await hooks.onEpoch({
          ...deliveryFields(spec),
          epoch,
          metrics: parsed.metrics,
          worker: options.worker,
        });
      } catch {
        decision = 'continue';
      }
      // A stop at the trial's last epoch is not sent on: the program is ending on its own (completed).
      if (decision === 'stop' && !exited && epoch < epochLimit(spec.params)) {
        stopped = true;
        terminate();
      }
    });
  });

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  exited = true;
  await chain;
  hooks.signal.removeEventListener('abort', onAbort);
  if (killTimer) {
    clearTimeout(killTimer);
    signalGroup('SIGKILL'); // whatever the program left behind in its group
  }
  if (interrupted) throw new TrialInterruptedError(spec.trial_id);

  const metrics = ignored > 0 ? { ...last, [IGNORED_LINES_METRIC]: ignored } : { ...last };
  let state: ResultEvent['state'] = 'completed';
  let error: string | undefined;
  // A program that exits 0 on its own finished, even when a stop for its last epoch came too late.
  if (stopped && !(exit.code === 0 && exit.signal === null)) state = 'stopped';
  else if (spawnError) {
    state = 'failed';
    error = `cannot start ${argv[0]}: ${spawnError.message}`;
  } else if (exit.code !== 0 && !stopped) {
    state = 'failed';
    const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const tail = stderr.slice(-STDERR_TAIL).trim();
    error = `${task.name} ${how}${tail ? `; stderr:\n${tail}` : ' (no stderr)'}`;
  }
  return resultEvent(spec, {
    state,
    metrics,
    epochs,
    error,
    worker: options.worker,
    started_at: started,
    ended_at: Date.now(),
  });
}
