/**
 * The state of one command trial's process, in one place: what its stdout reported, why it is ending (a
 * scheduler stop, a cancel), and the SIGTERM → SIGKILL escalation on its process group. Each change is
 * one named transition below; runCommandTrial (run-command.ts) only calls them.
 */
import type { ChildProcess } from 'node:child_process';
import type { ResultEvent } from '../../shared/protocol/index.js';
import type { EpochLine } from './json-lines.js';

/** Characters of stderr kept for a failed trial's error. */
const STDERR_TAIL = 2000;
/** Result metric counting ignored stdout lines (present when there were any). */
export const IGNORED_LINES_METRIC = 'hpo_ignored_lines';

/** How the process ended ('close'; both null when it could not start). */
export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The result's part that depends on how the run went. */
export interface CommandOutcome {
  state: ResultEvent['state'];
  error?: string;
}

export class CommandRun {
  /** Number of the last epoch reported. */
  private epochs = 0;
  /** Metrics of the last epoch reported. */
  private last: Record<string, number> = {};
  /** Non-empty stdout lines that were not epoch reports. */
  private ignored = 0;
  /** The scheduler said stop: the group was sent SIGTERM. */
  private stopped = false;
  /** Cancelled or shut down: the trial rejects as interrupted. */
  private cancelled = false;
  /** The process is gone (set once its exit is seen). */
  private exited = false;
  /** Set when the program could not be started. */
  private spawnError: Error | undefined;
  /** Running while a SIGTERM'd group has its grace period. */
  private killTimer: NodeJS.Timeout | undefined;
  private stderr = '';

  constructor(
    private readonly child: ChildProcess,
    private readonly graceMs: number,
  ) {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-STDERR_TAIL * 2);
    });
  }

  /** True until a stop or a cancel: later stdout lines are not reported. */
  get reporting(): boolean {
    return !this.stopped && !this.cancelled;
  }

  get interrupted(): boolean {
    return this.cancelled;
  }

  /** An epoch line: its number (the line's own when it moves forward, else the next one). */
  epochSeen(line: EpochLine): number {
    this.epochs = line.epoch !== undefined && line.epoch > this.epochs ? line.epoch : this.epochs + 1;
    this.last = line.metrics;
    return this.epochs;
  }

  /** A stdout line that is no epoch report: counted unless blank. */
  lineIgnored(line: string): void {
    if (line.trim() !== '') this.ignored++;
  }

  /** The scheduler's stop (too late once the process is gone). */
  stop(): void {
    if (this.exited) return;
    this.stopped = true;
    this.terminate();
  }

  /** A cancel or shutdown (the abort signal). */
  cancel(): void {
    this.cancelled = true;
    this.terminate();
  }

  /** Waits for the process to end (or fail to start), then marks it exited. */
  async waitForExit(): Promise<CommandExit> {
    const exit = await new Promise<CommandExit>((resolve) => {
      this.child.on('error', (err) => {
        this.spawnError = err;
        resolve({ code: null, signal: null });
      });
      this.child.on('close', (code, signal) => resolve({ code, signal }));
    });
    this.exited = true;
    return exit;
  }

  /** After the exit of a group sent SIGTERM: SIGKILL whatever the program left behind in it. */
  reapGroup(): void {
    if (!this.killTimer) return;
    clearTimeout(this.killTimer);
    this.signalGroup('SIGKILL');
  }

  /** The result's metrics: the last epoch's, with the count of ignored lines when there were any. */
  metrics(): Record<string, number> {
    return this.ignored > 0 ? { ...this.last, [IGNORED_LINES_METRIC]: this.ignored } : { ...this.last };
  }

  /** Number of the last epoch reported (the result's `epochs`). */
  get epochCount(): number {
    return this.epochs;
  }

  /** How the trial ended, once the process has exited; `program` is argv[0], `task` the task's name. */
  outcome(exit: CommandExit, program: string, task: string): CommandOutcome {
    // A program that exits 0 on its own finished, even when a stop for its last epoch came too late.
    if (this.stopped && !(exit.code === 0 && exit.signal === null)) return { state: 'stopped' };
    if (this.spawnError)
      return { state: 'failed', error: `cannot start ${program}: ${this.spawnError.message}` };
    if (exit.code !== 0 && !this.stopped) {
      const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const tail = this.stderr.slice(-STDERR_TAIL).trim();
      return { state: 'failed', error: `${task} ${how}${tail ? `; stderr:\n${tail}` : ' (no stderr)'}` };
    }
    return { state: 'completed' };
  }

  /** SIGTERM to the group, SIGKILL when the grace period is over (once, and never after the exit). */
  private terminate(): void {
    if (this.killTimer || this.exited) return;
    this.signalGroup('SIGTERM');
    this.killTimer = setTimeout(() => this.graceExpired(), this.graceMs);
  }

  private graceExpired(): void {
    this.signalGroup('SIGKILL');
  }

  private signalGroup(sig: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        // Already gone.
      }
    }
  }
}
