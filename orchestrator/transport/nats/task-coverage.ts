/**
 * Which tasks the live workers offer, from their heartbeats (the task routes each pulls from): so a trial no worker can run is said to
 * wait for one (instead of the queue stalling silently), and refusals fail a trial only once no live
 * worker that offers its task is left to try it.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { type BusNames, type WorkerHeartbeat, taskLabel, trialRoute } from '../../../shared/protocol/bus.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../../../shared/protocol/index.js';
import { parseMessage, validateWorkerHeartbeat } from '../../../shared/protocol/validate.js';
import type { RateLimitedLog } from '../../../shared/log/index.js';
import type { InFlight } from './deliveries.js';

export interface TaskCoverageOptions {
  /** A worker whose last heartbeat is older than this is taken for gone (default 20000: 4 heartbeats). */
  staleMs?: number;
  /** Most workers remembered (default 10000): a flood of names cannot grow the map without bound. */
  maxWorkers?: number;
  /** Trials in flight: those not started are checked every `checkEveryMs` for a worker to run them. */
  inFlight?: () => Iterable<InFlight>;
  /** Where "waits: no worker offers task X" goes (one line per task a minute at most). */
  log?: RateLimitedLog;
  /** Default 10000. */
  checkEveryMs?: number;
  /**
   * How long after start the heartbeats are taken as complete (default 3000): start() pings the
   * workers, and they answer at once.
   */
  listenMs?: number;
  /** Every valid heartbeat, after this class has read it (the transport's fleet slots read them too). */
  onHeartbeat?: (hb: WorkerHeartbeat) => void;
}

export class TaskCoverage {
  /** Last heartbeat per worker name, with when it arrived (this process's clock). */
  private readonly workers = new Map<string, { hb: WorkerHeartbeat; at: number }>();
  private sub?: Subscription;
  private timer?: NodeJS.Timeout;
  private startedAt = 0;
  private readonly staleMs: number;
  private readonly maxWorkers: number;

  constructor(private readonly options: TaskCoverageOptions = {}) {
    this.staleMs = options.staleMs ?? 20_000;
    this.maxWorkers = options.maxWorkers ?? 10_000;
  }

  /**
   * The transport's one heartbeat subscription: listens to heartbeats (handing each to `onHeartbeat`
   * too) and pings the workers (their answers fill the map at once).
   */
  start(nc: NatsConnection, names: BusNames): void {
    this.startedAt = Date.now();
    this.sub = nc.subscribe(names.heartbeatSubject, {
      callback: (err, msg) => {
        if (err) return;
        const hb = parseMessage(msg.data, validateWorkerHeartbeat);
        if (!hb.ok) return;
        this.heard(hb.value);
        this.options.onHeartbeat?.(hb.value);
      },
    });
    try {
      nc.publish(names.pingSubject);
    } catch {
      // Closing.
    }
    if (this.options.inFlight && this.options.log) {
      this.timer = setInterval(() => this.sayUnserved(), this.options.checkEveryMs ?? 10_000);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.sub?.unsubscribe();
  }

  /**
   * Tasks of queued (not started) trials that no live worker offers: their trials wait in their task's
   * queue until a worker offering the task comes (nothing fails meanwhile), and the log says so.
   */
  unserved(now = Date.now()): Map<string, { experiment: string; trials: number }> {
    const out = new Map<string, { experiment: string; trials: number }>();
    if (!this.informed(now)) return out;
    for (const e of this.options.inFlight?.() ?? []) {
      if (e.started || this.offering(e.spec, now).length > 0) continue;
      const task = taskLabel(e.spec.task, e.spec.task_sha256);
      const seen = out.get(task);
      if (seen) seen.trials++;
      else out.set(task, { experiment: e.experiment, trials: 1 });
    }
    return out;
  }

  private sayUnserved(): void {
    for (const [task, { experiment, trials }] of this.unserved()) {
      this.options.log?.report(
        `${trials} trial(s) wait in the queue: no worker offers task ${task} ` +
          `(start one with hpo worker --task or --program for it)`,
        { experiment, task },
      );
    }
  }

  heard(hb: WorkerHeartbeat, at = Date.now()): void {
    if (!this.workers.has(hb.name) && this.workers.size >= this.maxWorkers) this.prune(at);
    if (!this.workers.has(hb.name) && this.workers.size >= this.maxWorkers) return;
    this.workers.set(hb.name, { hb, at });
  }

  /** Whether the workers had time to answer the ping of start(): before, nothing is known. */
  informed(now = Date.now()): boolean {
    return this.startedAt > 0 && now - this.startedAt >= (this.options.listenMs ?? 3000);
  }

  /**
   * Live workers (fresh heartbeat, this protocol version, not draining) that offer the trial's task: its
   * route is among the `routes` the worker pulls from.
   */
  offering(spec: Pick<TrialSpec, 'task' | 'task_sha256'>, now = Date.now()): string[] {
    const route = trialRoute(spec);
    const out: string[] = [];
    for (const [name, { hb, at }] of this.workers) {
      if (now - at > this.staleMs || hb.v !== PROTOCOL_VERSION || hb.draining) continue;
      if ((hb.routes ?? []).includes(route)) out.push(name);
    }
    return out;
  }

  private prune(now: number): void {
    for (const [name, { at }] of this.workers) if (now - at > this.staleMs) this.workers.delete(name);
  }
}
