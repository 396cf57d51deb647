/**
 * `hpo worker --gpus ...`: one `hpo worker` process per planned GPU process (GpuProcessPlan), each with its
 * GPU in CUDA_VISIBLE_DEVICES and TensorFlow's memory growth on. A process that dies is started again
 * after a back-off (1 s doubling to 30 s; reset after a minute of running), except on a usage error
 * (exit 2), which stops them all. stop() passes SIGTERM on (drain; again: hand trials back) and resolves
 * when every process is gone. The processes leave with the supervisor: each drains when its IPC channel
 * closes (a supervisor killed with SIGKILL included).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from '../../shared/log/index.js';
import type { GpuProcessPlan } from '../../worker/gpu/gpu-plan.js';
import { childArgs } from './child-args.js';
import { GPU_CHILD_ENV } from './ipc-metrics.js';

export interface GpuWorkerProcessesOptions {
  plan: GpuProcessPlan[];
  /** The supervisor's own arguments (process.argv.slice(2)). */
  args: readonly string[];
  /** The hpo entry script (process.argv[1]). */
  script: string;
  logger: Logger;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
}

interface Slot {
  plan: GpuProcessPlan;
  child?: ChildProcess;
  startedAt: number;
  backoffMs: number;
  timer?: NodeJS.Timeout;
}

const MAX_BACKOFF_MS = 30_000;
const STABLE_MS = 60_000;

export class GpuWorkerProcesses {
  private readonly slots: Slot[];
  private stopping = false;
  private exitCode = 0;
  private finish!: (code: number) => void;
  /** Resolves with the supervisor's exit code once every process is gone after stop() (or a usage error). */
  readonly done = new Promise<number>((resolve) => (this.finish = resolve));

  constructor(private readonly options: GpuWorkerProcessesOptions) {
    this.slots = options.plan.map((plan) => ({ plan, startedAt: 0, backoffMs: 1000 }));
  }

  start(): void {
    for (const slot of this.slots) this.spawn(slot);
  }

  /** The processes running now (for the metrics). */
  children(): ChildProcess[] {
    return this.slots.flatMap((s) => (s.child && s.child.exitCode === null ? [s.child] : []));
  }

  /** Every planned process by worker name, with its child while one runs (for readiness). */
  named(): { name: string; child?: ChildProcess }[] {
    return this.slots.map((s) => ({
      name: s.plan.name,
      ...(s.child && s.child.exitCode === null ? { child: s.child } : {}),
    }));
  }

  /** Process ids by name (tests read their environment). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.slots.map((s) => [s.plan.name, s.child?.pid]));
  }

  private spawn(slot: Slot): void {
    const { plan } = slot;
    const env = { ...(this.options.env ?? process.env), ...plan.env, [GPU_CHILD_ENV]: '1' };
    const child = spawn(
      process.execPath,
      [...process.execArgv, this.options.script, ...childArgs(this.options.args, plan)],
      // Its own process group: a terminal's Ctrl-C reaches the supervisor only, which passes it on once.
      { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true },
    );
    slot.child = child;
    slot.startedAt = Date.now();
    this.options.logger.info(
      { worker: plan.name, pid: child.pid, gpu: plan.gpu, threads: plan.threads },
      `started ${plan.name} (pid ${child.pid}, CUDA_VISIBLE_DEVICES=${plan.env.CUDA_VISIBLE_DEVICES}, ` +
        `${plan.threads} thread(s))`,
    );
    child.once('error', (err) => this.options.logger.error({ err }, `${plan.name}: ${err.message}`));
    child.once('exit', (code, signal) => this.exited(slot, child, code, signal));
  }

  private exited(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const { plan } = slot;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (this.stopping) {
      this.options.logger.info({ worker: plan.name, code, signal }, `${plan.name} stopped (${how})`);
      if (code !== 0 && code !== null) this.exitCode = Math.max(this.exitCode, 1);
      this.settleIfAllGone();
      return;
    }
    if (code === 2) {
      this.options.logger.error(`${plan.name} exited with a usage error: stopping every GPU worker`);
      this.exitCode = 2;
      this.stop();
      return;
    }
    if (Date.now() - slot.startedAt > STABLE_MS) slot.backoffMs = 1000;
    const wait = slot.backoffMs;
    slot.backoffMs = Math.min(slot.backoffMs * 2, MAX_BACKOFF_MS);
    this.options.logger.warn(
      { worker: plan.name, pid: child.pid, code, signal },
      `${plan.name} exited unexpectedly (${how}): starting it again in ${wait / 1000} s`,
    );
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (!this.stopping) this.spawn(slot);
    }, wait);
  }

  private settleIfAllGone(): void {
    if (this.slots.every((s) => !s.child || s.child.exitCode !== null || s.child.signalCode !== null)) {
      this.finish(this.exitCode);
    }
  }

  /** First call: SIGTERM to each (drain). Later calls: SIGTERM again (hand running trials back). */
  stop(): void {
    this.stopping = true;
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = undefined;
      const c = slot.child;
      if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    }
    this.settleIfAllGone();
  }
}
