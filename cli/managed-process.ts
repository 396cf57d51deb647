/**
 * A long-running child server for `hpo up`: its output goes to a log file (and the last lines are kept
 * for error messages), stop() sends SIGTERM and SIGKILL after a grace period, and `exited` resolves when
 * the process is gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface ManagedProcessOptions {
  /** Name in messages, e.g. `nats-server`. */
  name: string;
  bin: string;
  args: string[];
  /** Where stdout and stderr are appended. */
  logFile: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private tail = '';

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    const log = createWriteStream(options.logFile, { flags: 'a' });
    this.child = spawn(options.bin, options.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      log.write(chunk);
      this.tail = (this.tail + chunk.toString()).slice(-4000);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        collect(Buffer.from(`${options.bin}: ${err.message}\n`));
        resolve({ code: null, signal: null });
      });
      this.child.once('close', (code, signal) => {
        log.end();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** The last lines of its output, for error messages. */
  lastOutput(lines = 15): string {
    return this.tail.trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }
}
