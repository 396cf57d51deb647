/**
 * A fleet of real `hpo worker` OS processes (`node bin/hpo.js worker --nats URL --concurrency N
 * --backend cpu --name NAME`) for the benchmarks: started together, ready once every one of them has
 * announced itself on the bus with its slots, stopped (SIGTERM, then SIGKILL) at the end. Each worker
 * logs (at its default level, as in production) into a file, not a pipe: reading a pipe would charge
 * the workers' log lines to the bench process, which is the measured orchestrator.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '../../shared/nats/index.js';
import { listWorkers } from '../../orchestrator/api/index.js';

export interface FleetOptions {
  url: string;
  processes: number;
  /** Trial threads per process. */
  concurrency: number;
  /** Worker names are `<namePrefix><i>`. */
  namePrefix: string;
  /** Write a V8 CPU profile of every worker process (and its threads) into this folder at exit. */
  profileDir?: string;
  /** More `hpo worker` arguments (e.g. `--task FILE`). */
  args?: string[];
}

interface Member {
  name: string;
  proc: ChildProcess;
  /** The worker's stderr. */
  logFile: string;
}

/** The last 8,000 characters of a worker's log. */
function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-8000);
  } catch {
    return '';
  }
}

/** bin/hpo.js, from dist/bench/ (compiled) up to the package root. */
const HPO_BIN = fileURLToPath(new URL('../../../bin/hpo.js', import.meta.url));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

export class WorkerFleet {
  private constructor(
    private readonly members: Member[],
    readonly slots: number,
    /** Folder of the workers' log files (removed by stop()). */
    private readonly logs: string,
  ) {}

  /** Spawns the processes (returns at once; see waitAnnounced). */
  static spawn(options: FleetOptions): WorkerFleet {
    const members: Member[] = [];
    const logs = mkdtempSync(join(tmpdir(), 'hpo-bench-fleet-'));
    for (let i = 0; i < options.processes; i++) {
      const name = `${options.namePrefix}${i}`;
      const logFile = join(logs, `${name}.log`);
      const fd = openSync(logFile, 'a');
      const proc = spawn(
        process.execPath,
        [
          ...(options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`]),
          HPO_BIN,
          'worker',
          '--nats',
          options.url,
          '--concurrency',
          String(options.concurrency),
          '--backend',
          'cpu',
          '--name',
          name,
          ...(options.args ?? []),
        ],
        { stdio: ['ignore', 'ignore', fd] },
      );
      closeSync(fd);
      members.push({ name, proc, logFile });
    }
    return new WorkerFleet(members, options.processes * options.concurrency, logs);
  }

  /** Worker name → pid, for CPU accounting. */
  pids(): Map<string, number> {
    return new Map(this.members.map((m) => [m.name, m.proc.pid ?? -1]));
  }

  /** Resolves once every worker answered a ping with the expected slots; throws if one died. */
  async waitAnnounced(nc: NatsConnection, concurrency: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const wanted = new Set(this.members.map((m) => m.name));
    for (;;) {
      this.checkAlive();
      const seen = await listWorkers(nc, { timeoutMs: 300 });
      const ready = seen.filter((w) => wanted.has(w.name) && w.slots === concurrency && !w.draining);
      if (ready.length === wanted.size) return;
      if (Date.now() > deadline) {
        throw new Error(
          `only ${ready.length} of ${wanted.size} workers announced themselves within ${timeoutMs} ms`,
        );
      }
      await sleep(200);
    }
  }

  /** Throws with the worker's last output if a worker process has exited. */
  checkAlive(): void {
    for (const m of this.members) {
      if (m.proc.exitCode !== null || m.proc.signalCode !== null) {
        throw new Error(
          `worker ${m.name} exited (code ${m.proc.exitCode}, signal ${m.proc.signalCode}):\n${tail(m.logFile)}`,
        );
      }
    }
  }

  /** SIGTERM (the worker drains: nothing runs by now), SIGKILL whatever is left after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const done = Promise.all(this.members.map((m) => exited(m.proc)));
    for (const m of this.members)
      if (m.proc.exitCode === null && m.proc.signalCode === null) m.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    await done;
    clearTimeout(timer);
    rmSync(this.logs, { recursive: true, force: true });
  }

  /** SIGKILL every process still running, synchronously (for exit handlers). */
  kill(): void {
    for (const m of this.members) {
      if (m.proc.exitCode === null && m.proc.signalCode === null) m.proc.kill('SIGKILL');
    }
  }
}
