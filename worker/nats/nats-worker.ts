/**
 * Worker side of the NATS transport: serves a TrialExecutor from the shared work queue. It pulls at
 * most as many trial messages as it has free executor slots, keeps each held message alive with
 * `working()` while the trial runs, asks the orchestrator for a decision after every epoch (request /
 * reply, no answer in time = continue), publishes the result to the events stream and acks the trial
 * message only once the stream has acknowledged the result. It never acks away a trial it did not run:
 * one it cannot read (another protocol version) and one a cancel aborted go back to the queue (nak).
 * It needs no privileged right (deploy/nats/): a refusal is reported, and the orchestrator re-queues.
 * See docs/NATS.md for the guarantees.
 */
import {
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  type BusNames,
  DEFAULT_SUBJECT_PREFIX,
  REFUSALS_HEADER,
  type RefusalEvent,
  WORKERS_CONSUMER,
  type WorkerHeartbeat,
  busNames,
  epochMsgId,
  refusalMsgId,
} from '../../shared/protocol/bus.js';
import {
  type Decision,
  type EpochEvent,
  PROTOCOL_VERSION,
  type ResultEvent,
  type TrialSpec,
} from '../../shared/protocol/index.js';
import {
  encodeMessage,
  decodeJson,
  parseMessage,
  validateCancel,
  validateDecisionReply,
  validateTrialSpec,
} from '../../shared/protocol/validate.js';
import { HpoError } from '../../shared/errors.js';
import { type TrialExecutor, TrialInterruptedError } from '../../shared/protocol/executor.js';
import {
  RateLimitedLog,
  type StreamSettings,
  type WorkersConsumerSettings,
  consumerSettings,
  defaultLog,
  ensureStreams,
  ensureWorkersConsumer,
  errorText,
  failedResult,
  publishResult,
} from '../../shared/nats/connection.js';

export interface NatsWorkerOptions {
  /** Subject prefix (default `hpo`); must match the orchestrator's. */
  prefix?: string;
  /** Name in heartbeats and logs (default: the executor's name). */
  name?: string;
  /** Backend reported in heartbeats (e.g. the --backend flag). */
  backend?: string;
  /**
   * ack_wait / max_deliver of the shared `workers` consumer, used only if this worker creates it (the
   * orchestrator owns them: a worker always reads the consumer's actual settings).
   */
  ackWaitMs?: number;
  maxDeliver?: number;
  /** How long to wait for the orchestrator's per-epoch decision before continuing (default 2000). */
  decisionTimeoutMs?: number;
  /** Heartbeat period (default 5000). */
  heartbeatMs?: number;
  /** Lifetime of one pull request (default 10000, at least 1000). */
  fetchExpiresMs?: number;
  /**
   * nak delay after a trial's first refusal, so another worker takes it (default 2000); it doubles with
   * each further refusal (at most 30 s).
   */
  refuseDelayMs?: number;
  /**
   * Refusals (by any worker) after which a trial ends failed with the reason: nobody in the fleet can
   * run it (default 10). Refusals do not use up `max_deliver`: a refused message about to reach its
   * last delivery is queued again as a new message carrying the count (header `Hpo-Refusals`).
   */
  maxRefusals?: number;
  /** nak delay after failing to start a trial for a worker-side reason (default 1000). */
  retryDelayMs?: number;
  /**
   * nak delay for a trial message this worker cannot read (another protocol version, garbage): it is
   * left for a compatible worker, never acked (default 5000). After max_deliver deliveries the
   * orchestrator that queued it fails it.
   */
  unreadableDelayMs?: number;
  /**
   * Checked before a trial runs: a reason string refuses the trial (e.g. its data set's sha256 differs
   * from this worker's), null accepts it. A refused trial goes back to the queue for another worker; on
   * its last delivery it ends failed with the reason.
   */
  accept?: (spec: TrialSpec) => string | null | Promise<string | null>;
  /** Log lines (default: stderr). Rejected messages are logged once per reason, rate-limited. */
  log?: (line: string) => void;
  /** Streams' settings, used only if this worker creates them. */
  streams?: StreamSettings;
  /** close()/drain() close the executor (default true). */
  closeExecutor?: boolean;
  /** close()/drain() close the NATS connection (default true). */
  closeConnection?: boolean;
}

export interface NatsWorkerStats {
  /** Messages that failed validation (trials, cancels, decision replies). */
  invalidMessages: number;
  /** Trials that ended with a published result. */
  trialsDone: number;
  /** Deliveries refused through `accept`. */
  refused: number;
  /** Trial messages received that had been delivered before (to this or another worker). */
  redelivered: number;
  /** Trials aborted by a cancel from the orchestrator. */
  cancelled: number;
  /** Trials handed back to the queue (nak) by a drain deadline. */
  requeued: number;
  /** Bus operations that failed: pulling trials, publishing an epoch event, publishing a result. */
  busErrors: number;
}

interface Held {
  msg: JsMsg;
  spec?: TrialSpec;
  controller: AbortController;
  /** Why the trial was aborted: both hand it back (the orchestrator removes cancelled trials itself). */
  reason?: 'cancel' | 'drain';
}

/** Longest nak delay after a refusal. */
const MAX_REFUSE_DELAY_MS = 30_000;
export { REFUSALS_HEADER };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class NatsWorker {
  readonly name: string;
  private readonly names: BusNames;
  private readonly js: JetStreamClient;
  private jsm?: JetStreamManager;
  private consumer?: Consumer;
  private settings: WorkersConsumerSettings;
  private readonly log: RateLimitedLog;
  private readonly write: (line: string) => void;
  private readonly held = new Map<number, Held>();
  private nextId = 0;
  /** Messages requested by open pull requests and not yet received. */
  private outstanding = 0;
  private fetchLoops = 0;
  private readonly fetches = new Set<ConsumerMessages>();
  private readonly subs: Subscription[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private started = false;
  private drained?: Promise<void>;
  private idleWaiters: (() => void)[] = [];
  private readonly startedAt = Date.now();
  private readonly counters: NatsWorkerStats = {
    invalidMessages: 0,
    trialsDone: 0,
    refused: 0,
    redelivered: 0,
    cancelled: 0,
    requeued: 0,
    busErrors: 0,
  };

  constructor(
    private readonly nc: NatsConnection,
    private readonly executor: TrialExecutor,
    private readonly options: NatsWorkerOptions = {},
  ) {
    this.names = busNames(options.prefix ?? DEFAULT_SUBJECT_PREFIX);
    this.name = options.name ?? executor.name;
    this.js = jetstream(nc);
    this.write = options.log ?? defaultLog;
    this.log = new RateLimitedLog((line) => this.write(`worker ${this.name}: ${line}`));
    this.settings = { ackWaitMs: options.ackWaitMs ?? 30_000, maxDeliver: options.maxDeliver ?? 5 };
    if (!(this.settings.ackWaitMs >= 1000)) throw new HpoError('ackWaitMs must be at least 1000');
    if (
      !Number.isInteger(this.settings.maxDeliver) ||
      (this.settings.maxDeliver < 1 && this.settings.maxDeliver !== -1)
    ) {
      throw new HpoError('maxDeliver must be a positive integer (or -1: unlimited)');
    }
    if ((options.fetchExpiresMs ?? 10_000) < 1000) throw new HpoError('fetchExpiresMs must be at least 1000');
  }

  /** Messages rejected by validation so far (for metrics). */
  get invalidMessages(): number {
    return this.counters.invalidMessages;
  }

  stats(): NatsWorkerStats {
    return { ...this.counters };
  }

  /** Trials held right now (running or being reported). */
  busy(): number {
    return this.held.size;
  }

  /** Creates the streams / consumer if missing, subscribes to cancels and pings, starts pulling trials. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const jsm = await jetstreamManager(this.nc);
    this.jsm = jsm;
    await this.awaitQueue(jsm);
    this.consumer = await this.js.consumers.get(this.names.trialsStream, WORKERS_CONSUMER);

    this.subs.push(
      this.nc.subscribe(this.names.cancelWildcard, {
        callback: (err, msg) => {
          if (!err) this.onCancel(msg);
        },
      }),
      this.nc.subscribe(this.names.pingSubject, {
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
    every(30_000, () => void this.refreshSettings());
    this.heartbeat();
    this.pump();
  }

  /**
   * Creates the streams and the workers' consumer if missing. A worker whose NATS user may not create
   * them (deploy/nats/: only the orchestrator may) waits until an orchestrator has.
   */
  private async awaitQueue(jsm: JetStreamManager): Promise<void> {
    for (let said = false; ;) {
      try {
        await ensureStreams(jsm, this.names, this.options.streams);
        this.settings = await ensureWorkersConsumer(jsm, this.names, this.settings, false);
        return;
      } catch (err) {
        if (this.nc.isClosed() || this.stopping) throw err;
        if (!said) this.write(`worker ${this.name}: waiting for the trial queue (${errorText(err)})`);
        said = true;
        await sleep(1000);
      }
    }
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
    this.stopping = true;
    for (const fetch of this.fetches) await fetch.close().catch(() => undefined);
    if (this.started && !this.nc.isClosed()) this.heartbeat();
    const abortAll = () => {
      for (const h of this.held.values()) {
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
    return this.held.size === 0 && this.fetchLoops === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async refreshSettings(): Promise<void> {
    if (!this.jsm || this.stopping) return;
    try {
      this.settings = consumerSettings(
        await this.jsm.consumers.info(this.names.trialsStream, WORKERS_CONSUMER),
      );
    } catch {
      // Next time.
    }
  }

  /** Opens pull requests for every free slot not already covered by one. */
  private pump(): void {
    if (this.stopping || !this.consumer) return;
    const free = this.executor.slots - this.held.size - this.outstanding;
    if (free <= 0) return;
    this.outstanding += free;
    this.fetchLoops++;
    void this.fetchBatch(this.consumer, free).finally(() => {
      this.fetchLoops--;
      this.pump();
      this.checkIdle();
    });
  }

  private async fetchBatch(consumer: Consumer, max: number): Promise<void> {
    let received = 0;
    let failed = false;
    try {
      const batch = await consumer.fetch({
        max_messages: max,
        expires: this.options.fetchExpiresMs ?? 10_000,
      });
      this.fetches.add(batch);
      if (this.stopping) await batch.close().catch(() => undefined);
      try {
        for await (const msg of batch) {
          received++;
          this.outstanding--;
          if (this.stopping) msg.nak();
          else this.take(msg);
        }
      } finally {
        this.fetches.delete(batch);
      }
    } catch (err) {
      failed = true;
      if (!this.stopping) {
        this.counters.busErrors++;
        this.log.report(`pulling trials failed: ${errorText(err)}`);
      }
    }
    this.outstanding -= max - received;
    if (failed && !this.stopping) {
      await sleep(1000);
      if (this.jsm && !this.stopping) {
        // The consumer may have been deleted (or the server lost its state): recreate it.
        await ensureWorkersConsumer(this.jsm, this.names, this.settings, false).then(
          (s) => (this.settings = s),
          () => undefined,
        );
      }
    }
  }

  /** Registers a received message synchronously (so a cancel right behind it finds it), then runs it. */
  private take(msg: JsMsg): void {
    const id = ++this.nextId;
    const held: Held = { msg, controller: new AbortController() };
    this.held.set(id, held);
    const parsed = parseMessage(msg.data, validateTrialSpec);
    let work: Promise<void>;
    if (!parsed.ok) work = this.unreadable(msg, `trial message on ${msg.subject}: ${parsed.error}`);
    else if (msg.subject !== this.names.trialsSubject(parsed.value.experiment_id)) {
      work = this.unreadable(
        msg,
        `trial message on ${msg.subject}: experiment id ${parsed.value.experiment_id} does not belong on this subject`,
      );
    } else {
      held.spec = parsed.value;
      work = this.process(held, parsed.value);
    }
    void work
      .catch((err: unknown) => this.log.report(`internal error: ${errorText(err)}`))
      .finally(() => {
        this.held.delete(id);
        this.pump();
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
      this.invalid(`${reason}; leaving it for a worker speaking protocol ${v}`);
    } else this.invalid(reason);
    msg.nak(this.options.unreadableDelayMs ?? 5000);
  }

  private invalid(reason: string): void {
    this.counters.invalidMessages++;
    this.log.report(`rejected invalid message: ${reason}`);
  }

  private async process(held: Held, spec: TrialSpec): Promise<void> {
    const { msg } = held;
    const delivery = msg.info.deliveryCount;
    // A redelivery: re-read max_deliver first. The orchestrator may have changed it since this worker
    // read it (a worker that starts first creates the consumer with its own defaults); a stale value
    // would nak a last delivery instead of ending the trial.
    if (delivery > 1) await this.refreshSettings();
    const max = this.settings.maxDeliver;
    const last = max > 0 && delivery >= max;
    if (delivery > 1) this.counters.redelivered++;
    const keepAlive = setInterval(
      () => msg.working(),
      Math.max(250, Math.floor(this.settings.ackWaitMs / 3)),
    );
    try {
      let refusal: string | null = null;
      if (this.options.accept) {
        try {
          refusal = await this.options.accept(spec);
        } catch (err) {
          refusal = `accept check failed: ${errorText(err)}`;
        }
      }
      if (held.controller.signal.aborted) return await this.interrupted(held, spec, last);
      if (refusal !== null) {
        this.counters.refused++;
        await this.refuse(msg, spec, refusal);
        return;
      }

      const epochPublishes: Promise<void>[] = [];
      let result: ResultEvent;
      try {
        result = await this.executor.run(spec, {
          onEpoch: (e) => this.onEpoch(e, epochPublishes),
          signal: held.controller.signal,
        });
      } catch (err) {
        if (err instanceof TrialInterruptedError || held.controller.signal.aborted) {
          return await this.interrupted(held, spec, last);
        }
        const error = `worker ${this.name} could not run the trial: ${errorText(err)}`;
        if (last) await this.finish(msg, failedResult(spec, this.name, error), 'term');
        else {
          this.log.report(error);
          msg.nak(this.options.retryDelayMs ?? 1000);
        }
        return;
      }
      // Epoch events go into the stream before the result, so a reader sees them in order.
      await Promise.all(epochPublishes);
      if (await this.finish(msg, result, 'ack')) this.counters.trialsDone++;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * A refused delivery. The trial goes back to the queue for another worker, after a delay that grows
   * with its refusals (2, 4, 8, 16, 30 s by default), so a busy capable worker frees a slot meanwhile.
   * Refusals must not use up max_deliver (that would fail a trial only this worker cannot run): before
   * the message's last delivery the worker reports the refusal on the events stream (with the count)
   * and terms the message; the orchestrator queues the trial again as a new message (fresh delivery
   * count, the refusals so far in a header). After `maxRefusals` refusals in all, the trial ends failed
   * with the reason.
   */
  private async refuse(msg: JsMsg, spec: TrialSpec, reason: string): Promise<void> {
    const delivery = msg.info.deliveryCount;
    const before = Number(msg.headers?.get(REFUSALS_HEADER) ?? '0');
    // Every delivery of this message counts as refused (conservative: an earlier one may have timed out).
    const refusals = (Number.isSafeInteger(before) && before > 0 ? before : 0) + delivery;
    const maxRefusals = this.options.maxRefusals ?? 10;
    await this.refreshSettings(); // the decision below depends on the current max_deliver
    const error = `refused by worker ${this.name}: ${reason}`;
    if (refusals >= maxRefusals) {
      const why = `${error} (refused ${refusals} times in all: no worker accepted the trial)`;
      await this.finish(msg, failedResult(spec, this.name, why), 'term');
      return;
    }
    this.log.report(`refusing trials: ${reason}`);
    const base = this.options.refuseDelayMs ?? 2000;
    const delay = Math.min(base * 2 ** Math.min(refusals - 1, 16), MAX_REFUSE_DELAY_MS);
    const max = this.settings.maxDeliver;
    if (max < 0 || delivery < max - 1) {
      msg.nak(delay);
      return;
    }
    // The next delivery would be the last: report the refusal; the orchestrator queues the trial again.
    const event: RefusalEvent = {
      v: PROTOCOL_VERSION,
      experiment: spec.experiment,
      experiment_id: spec.experiment_id,
      trial_id: spec.trial_id,
      attempt: spec.attempt,
      token: spec.token ?? '',
      worker: this.name,
      reason,
      refusals,
    };
    try {
      // Wait first, holding the message (working() keeps it), so the refusals stay spread out.
      await sleep(delay);
      await this.publishRetrying(() =>
        this.js.publish(this.names.eventsSubject(spec.experiment_id, 'refused'), encodeMessage(event), {
          msgID: refusalMsgId(event),
        }),
      );
    } catch (err) {
      this.log.report(`could not report the refusal of trial ${spec.trial_id}: ${errorText(err)}`);
      msg.nak(delay);
      return;
    }
    msg.term();
  }

  /**
   * An aborted trial. A cancelled one is handed back without a result (nak): the orchestrator removed
   * its message before it sent the cancel, so a real cancel ends it and a forged one costs a re-run, not
   * the trial. A drained one goes back too.
   */
  private async interrupted(held: Held, spec: TrialSpec, last: boolean): Promise<void> {
    if (held.reason === 'cancel') {
      this.counters.cancelled++;
      held.msg.nak();
      return;
    }
    if (last) {
      // The server would not deliver it again: end it rather than strand it.
      const error = `interrupted: worker ${this.name} was stopped while running the trial's last delivery`;
      await this.finish(held.msg, failedResult(spec, this.name, error), 'term');
      return;
    }
    this.counters.requeued++;
    held.msg.nak();
  }

  /**
   * Publishes the result (retrying while the message is kept alive) and only then acks (or terms) the
   * trial message. If the result cannot be published, the message is left unacked: it is redelivered
   * after ack_wait and the trial runs again.
   */
  private async finish(msg: JsMsg, result: ResultEvent, how: 'ack' | 'term'): Promise<boolean> {
    try {
      await this.publishRetrying(() => publishResult(this.js, this.names, result));
    } catch (err) {
      this.counters.busErrors++;
      this.log.report(`could not publish the result of trial ${result.trial_id}: ${errorText(err)}`);
      return false;
    }
    if (how === 'term') msg.term();
    else await msg.ackAck().catch(() => msg.ack());
    return true;
  }

  /** Publishes with retries for about a minute (a server restart, a lost publish ack). */
  private async publishRetrying(publish: () => Promise<unknown>): Promise<void> {
    const delays = [250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000];
    for (let i = 0; ; i++) {
      try {
        await publish();
        return;
      } catch (err) {
        if (i >= delays.length || this.nc.isClosed()) throw err;
        await sleep(delays[i]);
      }
    }
  }

  private async onEpoch(e: EpochEvent, publishes: Promise<void>[]): Promise<Decision> {
    const body = encodeMessage(e);
    // Retried like a result (same message id: de-duplicated), so a server restart does not lose epochs.
    publishes.push(
      this.publishRetrying(() =>
        this.js.publish(this.names.eventsSubject(e.experiment_id, 'epoch'), body, { msgID: epochMsgId(e) }),
      ).then(
        () => undefined,
        (err: unknown) => {
          this.counters.busErrors++;
          this.log.report(`could not publish an epoch event: ${errorText(err)}`);
        },
      ),
    );
    let reply: Msg;
    try {
      reply = await this.nc.request(this.names.decideSubject(e.experiment_id), body, {
        timeout: this.options.decisionTimeoutMs ?? 2000,
      });
    } catch {
      return 'continue'; // no orchestrator listening, or no answer in time
    }
    const parsed = parseMessage(reply.data, validateDecisionReply);
    if (!parsed.ok) {
      this.invalid(`decision reply for trial ${e.trial_id}: ${parsed.error}`);
      return 'continue';
    }
    return parsed.value.decision;
  }

  private onCancel(msg: Msg): void {
    const parsed = parseMessage(msg.data, validateCancel);
    if (!parsed.ok) return this.invalid(`cancel on ${msg.subject}: ${parsed.error}`);
    const { experiment_id: id, trial_id } = parsed.value;
    if (msg.subject !== this.names.cancelSubject(id)) {
      return this.invalid(`cancel on ${msg.subject}: experiment id ${id} does not belong on this subject`);
    }
    for (const h of this.held.values()) {
      if (h.spec?.experiment_id !== id || (trial_id !== undefined && h.spec.trial_id !== trial_id)) continue;
      h.reason ??= 'cancel';
      h.controller.abort(new Error('cancelled'));
    }
  }

  private heartbeat(): void {
    if (this.nc.isClosed()) return;
    const hb: WorkerHeartbeat = {
      v: PROTOCOL_VERSION,
      name: this.name,
      slots: this.executor.slots,
      busy: this.held.size,
      ...(this.options.backend === undefined ? {} : { backend: this.options.backend }),
      trials_done: this.counters.trialsDone,
      started_at: this.startedAt,
      sent_at: Date.now(),
      draining: this.stopping,
      invalid_messages: this.counters.invalidMessages,
    };
    try {
      this.nc.publish(this.names.heartbeatSubject, encodeMessage(hb));
    } catch {
      // Closing.
    }
  }
}
