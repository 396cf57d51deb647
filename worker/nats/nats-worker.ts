/**
 * Worker side of the NATS transport: serves a TrialExecutor from the shared work queue. It pulls at
 * most as many trial messages as it has free executor slots (trial-puller.ts), keeps each held message
 * alive with `working()` while the trial runs (trial-run.ts), asks the orchestrator for a decision after
 * every epoch (epoch-decision.ts: request / reply, no answer in time = continue), publishes the result
 * to the events stream and acks the trial message only once the stream has acknowledged the result
 * (publish-retrying.ts). Refusals: trial-refusal.ts; cancels: cancel-handler.ts; heartbeats:
 * heartbeat.ts. It never acks away a trial it did not run: one it cannot read (another protocol
 * version) and one a cancel aborted go back to the queue (nak). It needs no privileged right
 * (deploy/nats/): a refusal is reported, and the orchestrator re-queues. See docs/NATS.md.
 */
import { type JetStreamManager, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  DEFAULT_SUBJECT_PREFIX,
  busNames,
  taskRoute,
  trialRoute,
  trialSubject,
} from '../../shared/protocol/bus.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { decodeJson, parseMessage, validateTrialSpec } from '../../shared/protocol/validate.js';
import { HpoError } from '../../shared/errors.js';
import type { TrialExecutor } from '../../shared/protocol/executor.js';
import { childLogger, RateLimitedLog } from '../../shared/log/index.js';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_MAX_DELIVER,
  ensureStreams,
  errorText,
} from '../../shared/nats/connection.js';
import { BUILTIN_TASK_NAMES } from '../tasks/builtin-task-names.js';
import { handleCancel } from './cancel-handler.js';
import { publishHeartbeat } from './heartbeat.js';
import type { NatsWorkerOptions, NatsWorkerStats, OfferedTask } from './nats-worker-options.js';
import { TrialPuller } from './trial-puller.js';
import { runHeldTrial } from './trial-run.js';
import { type Held, type WorkerState, refreshSettings, reportInvalid, sleep } from './worker-state.js';

export type { NatsWorkerOptions, NatsWorkerStats } from './nats-worker-options.js';
export { REFUSALS_HEADER } from './trial-refusal.js';

export class NatsWorker {
  readonly name: string;
  private readonly state: WorkerState;
  private readonly puller: TrialPuller;
  private nextId = 0;
  private readonly subs: Subscription[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private started = false;
  private pulling = false;
  private drained?: Promise<void>;
  private idleWaiters: (() => void)[] = [];
  private readonly startedAt = Date.now();

  constructor(
    private readonly nc: NatsConnection,
    private readonly executor: TrialExecutor,
    private readonly options: NatsWorkerOptions = {},
  ) {
    this.name = options.name ?? executor.name;
    const logger = (options.logger ?? childLogger({ component: 'nats-worker' })).child({ worker: this.name });
    this.state = {
      name: this.name,
      names: busNames(options.prefix ?? DEFAULT_SUBJECT_PREFIX),
      nc,
      js: jetstream(nc),
      executor,
      options,
      counters: {
        invalidMessages: 0,
        trialsDone: 0,
        refused: 0,
        redelivered: 0,
        cancelled: 0,
        requeued: 0,
        busErrors: 0,
      },
      logger,
      log: new RateLimitedLog(logger),
      held: new Map<number, Held>(),
      resting: new Map<string, number>(),
      routes: [
        ...new Set(
          (options.offered ?? BUILTIN_TASK_NAMES.map((task): OfferedTask => ({ task }))).map((o) =>
            taskRoute(o.task, o.sha256),
          ),
        ),
      ],
      settings: {
        ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
        maxDeliver: options.maxDeliver ?? DEFAULT_MAX_DELIVER,
      },
      stopping: false,
      backendsInUse: [],
    };
    const { settings } = this.state;
    if (!(settings.ackWaitMs >= 1000)) throw new HpoError('ackWaitMs must be at least 1000');
    if (!Number.isInteger(settings.maxDeliver) || (settings.maxDeliver < 1 && settings.maxDeliver !== -1)) {
      throw new HpoError('maxDeliver must be a positive integer (or -1: unlimited)');
    }
    if ((options.fetchExpiresMs ?? 10_000) < 1000) throw new HpoError('fetchExpiresMs must be at least 1000');
    this.puller = new TrialPuller(
      this.state,
      (msg) => this.take(msg),
      () => this.checkIdle(),
    );
  }

  /** Messages rejected by validation so far (for metrics). */
  get invalidMessages(): number {
    return this.state.counters.invalidMessages;
  }

  stats(): NatsWorkerStats {
    return { ...this.state.counters };
  }

  /**
   * Where the worker is: `new` (before start), `starting` (waiting for the trial queue), `pulling`
   * (taking trials), `draining` (no new trials). For readiness (/readyz).
   */
  get phase(): 'new' | 'starting' | 'pulling' | 'draining' {
    if (this.state.stopping) return 'draining';
    if (this.pulling) return 'pulling';
    return this.started ? 'starting' : 'new';
  }

  /** Trials held right now (running or being reported). */
  busy(): number {
    return this.state.held.size;
  }

  /** Creates the streams / consumer if missing, subscribes to cancels and pings, starts pulling trials. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { state } = this;
    const jsm = await jetstreamManager(this.nc);
    state.jsm = jsm;
    await this.awaitQueue(jsm);

    this.subs.push(
      this.nc.subscribe(state.names.cancelWildcard, {
        callback: (err, msg) => {
          if (!err) handleCancel(state, msg);
        },
      }),
      this.nc.subscribe(state.names.pingSubject, {
        callback: (err) => {
          if (!err) this.heartbeat();
        },
      }),
    );
    await this.nc.flush();

    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.heartbeatMs ?? 5000, () => this.heartbeat());
    // The orchestrator owns ack_wait / max_deliver and may change them: re-read now and then.
    every(30_000, () => void refreshSettings(state));
    this.heartbeat();
    await this.puller.start();
    this.pulling = true;
  }

  /**
   * Stops taking trials and lets the running ones finish; with `deadlineMs`, trials still running after
   * it are aborted and handed back to the queue (nak without delay: another worker takes them at once).
   * Then unsubscribes and closes the executor and connection (unless told not to).
   */
  drain(options: { deadlineMs?: number } = {}): Promise<void> {
    this.drained ??= this.shutdown(options.deadlineMs);
    return this.drained;
  }

  /** drain() with no grace: running trials go back to the queue now. */
  close(): Promise<void> {
    return this.drain({ deadlineMs: 0 });
  }

  private async shutdown(deadlineMs: number | undefined): Promise<void> {
    this.state.stopping = true;
    await this.puller.close();
    if (this.started && !this.nc.isClosed()) this.heartbeat();
    const abortAll = () => {
      for (const h of this.state.held.values()) {
        h.reason ??= 'drain';
        h.controller.abort(new Error('worker draining'));
      }
    };
    const timer = deadlineMs === undefined ? undefined : setTimeout(abortAll, deadlineMs);
    await this.idle();
    clearTimeout(timer);
    for (const t of this.timers) clearInterval(t);
    for (const s of this.subs) s.unsubscribe();
    if (this.options.closeExecutor !== false) await this.executor.close();
    if (this.options.closeConnection !== false && !this.nc.isClosed()) {
      await this.nc.flush().catch(() => undefined);
      await this.nc.close();
    }
  }

  private idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.state.held.size === 0 && this.puller.active() === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Registers a received message synchronously (so a cancel right behind it finds it), then runs it. */
  private take(msg: JsMsg): void {
    const { state } = this;
    const id = ++this.nextId;
    const held: Held = { msg, controller: new AbortController() };
    state.held.set(id, held);
    const parsed = parseMessage(msg.data, validateTrialSpec);
    let work: Promise<void>;
    if (!parsed.ok) work = this.unreadable(msg, `trial message on ${msg.subject}: ${parsed.error}`);
    else if (
      msg.subject !== trialSubject(state.names, parsed.value) ||
      !state.routes.includes(trialRoute(parsed.value))
    ) {
      work = this.unreadable(
        msg,
        `trial message on ${msg.subject}: experiment id ${parsed.value.experiment_id} and task ${parsed.value.task} do not belong on this subject`,
      );
    } else {
      held.spec = parsed.value;
      work = runHeldTrial(state, held, parsed.value);
    }
    void work
      .catch((err: unknown) => state.log.report(`internal error: ${errorText(err)}`))
      .finally(() => {
        state.held.delete(id);
        this.puller.pump();
        this.checkIdle();
      });
  }

  /**
   * A trial message this worker cannot read: counted, and handed back after a delay for a worker that
   * can (never acked or termed: either would delete it from the work queue). After max_deliver
   * deliveries the orchestrator that queued it fails it and removes it.
   */
  private async unreadable(msg: JsMsg, reason: string): Promise<void> {
    const decoded = decodeJson(msg.data);
    const v =
      decoded.ok && typeof decoded.value === 'object' && decoded.value !== null
        ? (decoded.value as { v?: unknown }).v
        : undefined;
    if (typeof v === 'number' && v !== PROTOCOL_VERSION) {
      reportInvalid(this.state, `${reason}; leaving it for a worker speaking protocol ${v}`);
    } else reportInvalid(this.state, reason);
    msg.nak(this.options.unreadableDelayMs ?? 5000);
  }

  /**
   * Creates the streams if missing. A worker whose NATS user may not create them (deploy/nats/: only
   * the orchestrator may) waits until an orchestrator has. The task routes' consumers: trial-puller.ts.
   */
  private async awaitQueue(jsm: JetStreamManager): Promise<void> {
    const { state } = this;
    for (let said = false; ;) {
      try {
        await ensureStreams(jsm, state.names, this.options.streams);
        return;
      } catch (err) {
        if (this.nc.isClosed()) throw err;
        if (!said) state.log.report(`waiting for the trial queue (${errorText(err)})`);
        said = true;
        await sleep(1000);
      }
    }
  }

  private heartbeat(): void {
    publishHeartbeat(this.state, this.startedAt);
  }
}
