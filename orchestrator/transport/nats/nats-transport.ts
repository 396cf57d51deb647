/**
 * Orchestrator side of the NATS transport: queues trials on the JetStream work queue (each dispatch with
 * a delivery token, deliveries.ts), reads started, epoch, result and refusal events from a durable
 * per-experiment consumer (acked only after the handler ran, so events produced while the orchestrator
 * was down are applied when it comes back; one whose store cannot write stays unacked until it can),
 * answers per-epoch decision requests, re-queues refused trials, fails trials that used up their
 * deliveries, dispatches again trials lost in flight (trial-deadline.ts), and cancels by removing the
 * trials' messages and telling workers to abort running ones. Everything is addressed by the
 * experiment's bus id. See docs/NATS.md.
 */
import {
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
  type EventKind,
  busNames,
  trialMsgId,
  trialRoute,
  trialSubject,
} from '../../../shared/protocol/bus.js';
import {
  type Decision,
  type EpochEvent,
  PROTOCOL_VERSION,
  type TrialSpec,
  deliveryFields,
} from '../../../shared/protocol/index.js';
import {
  encodeMessage,
  parseMessage,
  validateDecisionRequest,
  validateEpochEvent,
  validateRefusalEvent,
  validateResultEvent,
  validateStartedEvent,
  validateTrialSpec,
} from '../../../shared/protocol/validate.js';
import { HpoError, RetryLaterError } from '../../../shared/errors.js';
import { childLogger, RateLimitedLog } from '../../../shared/log/index.js';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_MAX_DELIVER,
  ensureStreams,
  errorText,
  failedResult,
  publishResult,
  removeLegacyWorkersConsumer,
  watchMaxDeliveries,
} from '../../../shared/nats/connection.js';
import { isInboxReply, replyRefusal } from '../../../shared/nats/inbox.js';
import { retryTransient } from '../../../shared/nats/retry.js';
import type { Transport, TransportHandlers } from '../transport.js';
import { type DeliveryClaim, Deliveries, type InFlight } from './deliveries.js';
import { DEFAULT_MAX_TRIAL_TIMEOUTS, TrialDeadline, defaultTrialTimeoutMs } from './trial-deadline.js';
import { DecisionCache } from './decision-cache.js';
import {
  ensureEventsConsumer,
  limitEventsStream,
  RETRY_LATER_MAX_MS,
  retryDelay,
  streamSetupError,
} from './events-consumer.js';
import { HeldEpochs } from './held-epochs.js';
import { FleetSlots, fleetPrefetch } from './fleet-slots.js';
import { reconcileAdopted, settleMissing } from './adopted-trials.js';
import { refusalNotCounted, refusalsExhausted, requeueRefused, trialMessageQueued } from './trial-queue.js';
import { TaskRoutes } from './task-routes.js';
import { TaskCoverage } from './task-coverage.js';
import type { NatsTransportOptions, NatsTransportStats } from './nats-transport-options.js';

export type { NatsTransportOptions, NatsTransportStats } from './nats-transport-options.js';

interface Listener {
  ready: Promise<void>;
  messages?: ConsumerMessages;
  decide?: Subscription;
  loop?: Promise<void>;
}

const EVENT_KINDS: readonly EventKind[] = ['started', 'epoch', 'result', 'refused'];

export class NatsTransport implements Transport {
  readonly name = 'nats';
  readonly queues = true;
  private readonly names: BusNames;
  private readonly js: JetStreamClient;
  private jsm?: JetStreamManager;
  private handlers?: TransportHandlers;
  private readonly deliveries: Deliveries;
  /** By experiment bus id. */
  private readonly listeners = new Map<string, Listener>();
  /** Decisions per (trial, attempt, epoch, worker): each epoch reaches the handler once. */
  private readonly decisions = new DecisionCache();
  /** Epoch events to be delivered again (e.g. waiting for the store): their result waits behind them. */
  private readonly heldEpochs = new HeldEpochs(4 * RETRY_LATER_MAX_MS);
  private readonly log: RateLimitedLog;
  private readonly maxInFlight: number;
  private readonly fleet?: FleetSlots;
  private advisories?: { unsubscribe(): void };
  private readonly deadline: TrialDeadline;
  private readonly trialTimeoutMs: number;
  /** The task routes' consumers this orchestrator made sure of. */
  private readonly routes: TaskRoutes;
  /** Which tasks the live workers offer (heartbeats). */
  private readonly coverage: TaskCoverage;
  private closing = false;
  private closed?: Promise<void>;
  /** Deliveries taken back by adopt(), matched with the queue in start(). */
  private readonly adopted: InFlight[] = [];
  /** Re-dispatching adopted deliveries found missing once the events left unread are handled. */
  private settling?: Promise<void>;
  private readonly counters: NatsTransportStats = {
    invalidMessages: 0,
    requeued: 0,
    resultsApplied: 0,
    decisionsAnswered: 0,
    handlerErrors: 0,
    timedOut: 0,
  };

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: NatsTransportOptions = {},
  ) {
    this.names = busNames(options.prefix ?? DEFAULT_SUBJECT_PREFIX);
    this.deliveries = new Deliveries(options.experiments);
    this.js = jetstream(nc);
    this.log = new RateLimitedLog(options.logger ?? childLogger({ component: 'nats-transport' }));
    this.trialTimeoutMs =
      options.trialTimeoutMs ?? defaultTrialTimeoutMs(options.ackWaitMs, options.maxDeliver);
    this.deadline = new TrialDeadline({
      timeoutMs: this.trialTimeoutMs,
      maxTimeouts: options.maxTrialTimeouts ?? DEFAULT_MAX_TRIAL_TIMEOUTS,
      inFlight: () => this.deliveries.all(),
      queued: (e) =>
        e.missing
          ? Promise.resolve(false)
          : this.jsm
            ? trialMessageQueued(this.jsm, this.names, e)
            : Promise.resolve(true),
      redispatch: (e, why) => this.redispatch(e, why),
      fail: (e, why) =>
        this.retry(() =>
          publishResult(this.js, this.names, failedResult(e.spec, this.options.name ?? 'orchestrator', why)),
        ),
      log: this.log,
    });
    this.routes = new TaskRoutes(this.names, {
      ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
      maxDeliver: options.maxDeliver ?? DEFAULT_MAX_DELIVER,
    });
    this.maxInFlight = options.maxInFlight ?? (options.fleet ? Infinity : 64);
    if (!(Number.isInteger(this.maxInFlight) || this.maxInFlight === Infinity) || this.maxInFlight < 1) {
      throw new HpoError('maxInFlight must be a positive integer');
    }
    if (options.fleet) {
      this.fleet = new FleetSlots({
        ...options.fleet,
        ownOn: (worker) => this.ownOn(worker),
        onGrow: () => this.handlers?.onCapacity?.(),
      });
    }
    const fleet = this.fleet;
    this.coverage = new TaskCoverage({
      inFlight: () => this.deliveries.all(),
      log: this.log,
      ...(fleet ? { onHeartbeat: (hb) => fleet.heard(hb) } : {}),
    });
    const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
    if (!Number.isInteger(maxDeliver) || (maxDeliver < 1 && maxDeliver !== -1)) {
      throw new HpoError('maxDeliver must be a positive integer (or -1: unlimited)');
    }
    if ((options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS) < 1000)
      throw new HpoError('ackWaitMs must be at least 1000');
  }

  /** Messages rejected by validation so far (for metrics). */
  get invalidMessages(): number {
    return this.counters.invalidMessages;
  }

  stats(): NatsTransportStats {
    return { ...this.counters, timedOut: this.deadline.lost };
  }

  async start(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
    const jsm = await this.retry(() => jetstreamManager(this.nc));
    this.jsm = jsm;
    try {
      await this.retry(() => ensureStreams(jsm, this.names, this.options.streams));
      await this.retry(() => limitEventsStream(jsm, this.names, this.options.streams?.eventsMaxBytes));
    } catch (err) {
      throw streamSetupError(err);
    }
    if (await this.retry(() => removeLegacyWorkersConsumer(jsm, this.names)))
      this.log.report('deleted the unfiltered workers consumer of an older version (trials now go by task)');
    this.advisories = watchMaxDeliveries(this.nc, this.js, jsm, this.names, {
      accept: (id) => this.listeners.has(id),
      worker: this.options.name ?? 'orchestrator',
      onError: (m) => this.log.report(m),
    });
    const missing = await this.reconcileAdopted(jsm);
    for (const k of this.options.experiments ?? []) await this.listen(k.id, true);
    if (missing.length > 0) {
      this.settling = settleMissing({
        jsm,
        names: this.names,
        missing,
        untilMs: Date.now() + this.trialTimeoutMs,
        closing: () => this.closing,
        current: (e) => this.deliveries.get(e.experimentId, e.trial_id) === e,
        redispatch: (e, why) => this.redispatch(e, why),
        log: this.log,
      });
    }
    this.deadline.start();
    this.fleet?.start();
    this.coverage.start(this.nc, this.names);
    this.sayWhenNoWorker();
  }

  /** Following the fleet with no worker that can run the trials a few seconds on: says it waits. */
  private sayWhenNoWorker(): void {
    if (!this.fleet) return;
    const timer = setTimeout(() => {
      if (!this.closing && this.fleet!.workers() === 0)
        this.log.report(
          `no worker that can run these trials is on the bus yet (none heartbeats on ${this.names.heartbeatSubject}): waiting for one`,
        );
    }, 3000);
    timer.unref();
  }

  adopt(specs: TrialSpec[]): boolean {
    if (this.handlers) throw new HpoError('adopt() must come before start()');
    if (specs.some((s) => !this.deliveries.hasKey(s.experiment_id))) return false;
    for (const spec of specs) {
      const checked = validateTrialSpec(this.deliveries.dispatch(spec).spec);
      if (!checked.ok) throw new HpoError(`invalid trial spec to adopt: ${checked.error}`);
    }
    this.adopted.push(...specs.map((s) => this.deliveries.get(s.experiment_id, s.trial_id)!));
    return true;
  }

  capacity(): number {
    let window = this.maxInFlight;
    if (this.fleet) {
      const slots = this.fleet.slots();
      window = Math.min(window, slots + fleetPrefetch(slots));
    }
    return Math.max(0, window - this.deliveries.size);
  }

  /** This transport's trials the worker may hold now: started there, or not reported started yet. */
  private ownOn(worker: string): number {
    let n = 0;
    for (const e of this.deliveries.all()) if (!e.started || e.worker === worker) n++;
    return n;
  }

  inFlight(): number {
    return this.deliveries.size;
  }

  /**
   * Tasks of queued trials that no live worker offers (by `name@sha12`), with how many trials wait for
   * one: they stay queued on their task's route until such a worker comes, and the log says so.
   */
  waitingForWorkers(): { task: string; trials: number }[] {
    return [...this.coverage.unserved()].map(([task, { trials }]) => ({ task, trials }));
  }

  async submit(spec: TrialSpec): Promise<void> {
    const jsm = this.jsm;
    if (!this.handlers || !jsm)
      throw new HpoError('transport not started: call start(handlers) before submit');
    if (this.closing) throw new HpoError('transport closed');
    const existing = this.deliveries.get(spec.experiment_id, spec.trial_id);
    if (existing && existing.attempt === spec.attempt) return; // a duplicate submit is a no-op
    this.deliveries.keyFor(spec);
    const entry = this.deliveries.dispatch(spec);
    const checked = validateTrialSpec(entry.spec);
    if (!checked.ok) {
      this.deliveries.end(spec.experiment_id, spec.trial_id, entry);
      throw new HpoError(`invalid trial spec: ${checked.error}`);
    }
    try {
      await this.listen(spec.experiment_id, false);
      await this.retry(() => this.routes.ensure(jsm, trialRoute(spec)));
      // Retried within the stream's duplicate window: a publish stored but unacknowledged is not stored twice.
      const ack = await this.retry(
        () =>
          this.js.publish(trialSubject(this.names, spec), encodeMessage(checked.value), {
            msgID: trialMsgId(spec),
          }),
        90_000,
      );
      entry.seq = ack.seq;
    } catch (err) {
      this.deliveries.end(spec.experiment_id, spec.trial_id, entry);
      throw new HpoError(`could not queue trial ${spec.trial_id} on NATS: ${errorText(err)}`, { cause: err });
    }
  }

  async cancel(experiment: string, trialId?: string): Promise<void> {
    const jsm = this.jsm;
    if (!jsm) return;
    for (const id of this.deliveries.idsOf(experiment)) {
      const targets = this.deliveries.list(id, trialId);
      // The messages go first (queued or held by a worker: a worker only aborts and hands trials back,
      // so removing them is the orchestrator's job), then the cancel tells workers to stop running ones.
      // One by one: nats-server 2.9 moves a work queue's consumer past every message on a filtered
      // purge, so purging one experiment's subject would strand the other experiments' queued trials.
      for (const t of targets) {
        if (t.seq !== undefined)
          await jsm.streams.deleteMessage(this.names.trialsStream, t.seq, false).catch(() => false);
      }
      this.nc.publish(
        this.names.cancelSubject(id),
        encodeMessage({
          v: PROTOCOL_VERSION,
          experiment,
          experiment_id: id,
          ...(trialId === undefined ? {} : { trial_id: trialId }),
        }),
      );
      await this.nc.flush();
      for (const t of targets) {
        this.deliveries.end(id, t.trial_id, t);
        this.forgetDecisions(id, t.trial_id);
      }
    }
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.deadline.stop();
    this.fleet?.stop();
    this.coverage.stop();
    await this.settling;
    this.advisories?.unsubscribe();
    const listeners = [...this.listeners.values()];
    await Promise.all(listeners.map((l) => l.ready.catch(() => undefined)));
    for (const l of listeners) l.decide?.unsubscribe();
    await Promise.all(listeners.map((l) => l.messages?.close().catch(() => undefined)));
    await Promise.all(listeners.map((l) => l.loop));
    if (this.options.closeConnection !== false) {
      for (const nc of new Set([this.nc, this.options.responder ?? this.nc])) {
        if (nc.isClosed()) continue;
        await nc.flush().catch(() => undefined);
        await nc.close();
      }
    }
  }

  /**
   * Starts reading the experiment's events and answering its decision requests (once). `resumed`: an
   * experiment given in the options, whose unacked events are replayed in stream order.
   */
  private listen(id: string, resumed: boolean): Promise<void> {
    const existing = this.listeners.get(id);
    if (existing) return existing.ready;
    const listener: Listener = { ready: Promise.resolve() };
    listener.ready = this.setUpListener(id, listener, resumed);
    this.listeners.set(id, listener);
    listener.ready.catch(() => this.listeners.delete(id));
    return listener.ready;
  }

  private async setUpListener(id: string, listener: Listener, resumed: boolean): Promise<void> {
    const jsm = this.jsm;
    if (!jsm) throw new HpoError('transport not started');
    const durable = await this.retry(() =>
      ensureEventsConsumer(jsm, this.names, id, resumed, this.options.eventsAckWaitMs ?? DEFAULT_ACK_WAIT_MS),
    );
    listener.decide = (this.options.responder ?? this.nc).subscribe(this.names.decideSubject(id), {
      callback: (err, msg) => {
        if (!err) void this.onDecide(id, msg);
      },
    });
    const consumer = await this.retry(() => this.js.consumers.get(this.names.eventsStream, durable));
    // A pull that expires every 5 s (idle heartbeats every 2.5 s): after a server or the consumer's leader
    // is lost (a cluster), the next pull goes out within seconds, not the default 30.
    const messages = await consumer.consume({ max_messages: 64, expires: 5000 });
    listener.messages = messages;
    listener.loop = (async () => {
      try {
        for await (const m of messages) {
          if (this.closing) m.nak();
          else await this.onEvent(id, m);
        }
      } catch (err) {
        if (!this.closing)
          this.log.report(`reading events of experiment id ${id} stopped: ${errorText(err)}`, {
            experiment_id: id,
          });
      }
    })();
    await this.nc.flush();
  }

  private invalid(reason: string): void {
    this.counters.invalidMessages++;
    this.log.report(`rejected invalid message: ${reason}`);
  }

  /** A message refused elsewhere on this bus (e.g. a status question), counted with the rest. */
  countInvalid(): void {
    this.counters.invalidMessages++;
  }

  /** Checks a message's delivery claim; a rejection is counted and logged. */
  private trusted(what: string, claim: DeliveryClaim, id: string, epoch?: number) {
    if (claim.experiment_id !== id) {
      this.invalid(`${what}: experiment id ${claim.experiment_id} does not belong on this subject`);
      return undefined;
    }
    const verdict = this.deliveries.check(claim, epoch);
    if (!verdict.ok) {
      this.invalid(`${what}: ${verdict.reason}`);
      return undefined;
    }
    return verdict;
  }

  private async onEvent(id: string, m: JsMsg): Promise<void> {
    const handlers = this.handlers;
    if (!handlers) return m.nak();
    const kind = EVENT_KINDS.find((k) => m.subject === this.names.eventsSubject(id, k));
    if (!kind) {
      this.invalid(`event on unexpected subject ${m.subject}`);
      return m.term();
    }
    try {
      await this.applyEvent(id, kind, m);
      m.ack();
    } catch (err) {
      this.counters.handlerErrors++;
      this.log.report(`event handler failed: ${errorText(err)}`, { experiment_id: id, subject: m.subject });
      const delay = retryDelay(err, m.info.deliveryCount);
      if (delay === undefined) m.term();
      else m.nak(delay);
    }
  }

  /** Validates, checks the token of, and hands on one event (throws what its handler throws). */
  private async applyEvent(id: string, kind: EventKind, m: JsMsg): Promise<void> {
    const where = `${kind} event on ${m.subject}`;
    switch (kind) {
      case 'refused':
        return this.applyRefused(id, m, where);
      case 'started':
        return this.applyStarted(id, m, where);
      case 'result':
        return this.applyResult(id, m, where);
      default: // 'epoch'
        return this.applyEpoch(id, m, where);
    }
  }

  /** A worker refused a delivery: requeued for another worker, or the trial failed once refusals are exhausted. */
  private async applyRefused(id: string, m: JsMsg, where: string): Promise<void> {
    const parsed = parseMessage(m.data, validateRefusalEvent);
    if (!parsed.ok) return this.invalid(`${where}: ${parsed.error}`);
    const verdict = this.trusted(where, parsed.value, id);
    if (verdict?.kind !== 'current') return;
    const entry = verdict.entry;
    const notCounted = refusalNotCounted(parsed.value, entry);
    if (notCounted !== undefined) return this.invalid(`${where}: ${notCounted}`);
    const live = this.coverage.offering(entry.spec);
    const exhausted = refusalsExhausted(parsed.value, entry, live, this.options.maxRefusals ?? 10);
    if (exhausted !== undefined) {
      // The worker termed the message: the failed result ends the trial like any other.
      await publishResult(this.js, this.names, failedResult(entry.spec, parsed.value.worker, exhausted));
      return;
    }
    await requeueRefused(
      this.js,
      this.jsm!,
      this.names,
      parsed.value,
      entry,
      () => this.deliveries.get(id, entry.trial_id) === entry,
    );
    this.counters.requeued++;
  }

  /** A worker started the current delivery of a trial: handed on once per delivery. */
  private async applyStarted(id: string, m: JsMsg, where: string): Promise<void> {
    const handlers = this.handlers!;
    const parsed = parseMessage(m.data, validateStartedEvent);
    if (!parsed.ok) return this.invalid(`${where}: ${parsed.error}`);
    const e = parsed.value;
    const verdict = this.trusted(where, e, id);
    if (verdict?.kind === 'current') verdict.entry.worker = e.worker;
    // Once per delivery is enough: a redelivery to another worker is already running.
    if (verdict?.kind !== 'current' || verdict.entry.started) return;
    await handlers.onStarted?.({
      experiment: e.experiment,
      trial_id: e.trial_id,
      attempt: e.attempt,
      worker: e.worker,
    });
    verdict.entry.started = true;
  }

  /**
   * A trial's result: after its epochs (held ones first), its last epoch, then out of flight and handed on;
   * its decisions are forgotten only once the handler recorded it.
   */
  private async applyResult(id: string, m: JsMsg, where: string): Promise<void> {
    const handlers = this.handlers!;
    const parsed = parseMessage(m.data, validateResultEvent);
    if (!parsed.ok) return this.invalid(`${where}: ${parsed.error}`);
    const result = parsed.value;
    const verdict = this.trusted(where, result, id, result.epochs);
    if (!verdict) return;
    const waiting = this.heldEpochs.waiting(result);
    if (waiting.length > 0) {
      throw new RetryLaterError(
        `the result of trial ${result.trial_id} waits for its epoch(s) ${waiting.join(', ')}, kept until the store can write them`,
      );
    }
    // Its last epoch first (carried by the result): recorded and shown to the scheduler like any epoch;
    // only a store that cannot write holds the result back.
    const last = result.final_epoch;
    if (last) {
      const e = {
        ...deliveryFields(result),
        epoch: last.epoch,
        metrics: last.metrics,
        worker: result.worker,
      };
      await this.decide(e, (err) => err instanceof RetryLaterError);
    }
    // No longer in flight (its capacity is free) even if the handler must retry: the result is on the
    // bus, and a redelivery is recognised by its token (kind `late`).
    if (verdict.kind === 'current') this.deliveries.end(id, result.trial_id, verdict.entry);
    // Kept alive while the handler runs (it may fetch a saved model from the object store).
    const keepAlive = setInterval(() => m.working(), 10_000);
    try {
      await handlers.onResult(result);
    } catch (err) {
      // Refused for good (dropped): the trial stays in flight, under the trial deadline's watch.
      if (verdict.kind === 'current' && !(err instanceof RetryLaterError))
        this.deliveries.restore(verdict.entry);
      throw err;
    } finally {
      clearInterval(keepAlive);
    }
    // Only now: a result retried later must not record its last epoch twice.
    this.forgetDecisions(id, result.trial_id);
    this.counters.resultsApplied++;
  }

  /** An epoch event (normally answered already through the decision request). */
  private async applyEpoch(id: string, m: JsMsg, where: string): Promise<void> {
    const parsed = parseMessage(m.data, validateEpochEvent);
    if (!parsed.ok) return this.invalid(`${where}: ${parsed.error}`);
    // Normally answered already through the decision request; applied here if it was not (the
    // orchestrator was down, or the request timed out). A handler that failed is run again.
    const e = parsed.value;
    if (!this.trusted(where, e, id, e.epoch)) return;
    try {
      await this.decide(e, () => true);
      this.heldEpochs.release(e);
    } catch (err) {
      // Delivered again later (onEvent): its result waits for it; dropped: nothing to wait for.
      if (retryDelay(err, m.info.deliveryCount) === undefined) this.heldEpochs.release(e);
      else this.heldEpochs.hold(e);
      throw err;
    }
  }

  /** Matches the adopted deliveries with the queue's messages; returns those whose message is gone. */
  private async reconcileAdopted(jsm: JetStreamManager): Promise<InFlight[]> {
    const missing: InFlight[] = [];
    for (const id of new Set(this.adopted.map((e) => e.experimentId))) {
      const entries = this.adopted.filter((e) => e.experimentId === id);
      missing.push(...(await reconcileAdopted(jsm, this.names, id, entries)));
    }
    return missing;
  }

  /** A trial lost in flight: the runner dispatches it again as a new attempt (or it ends failed). */
  private async redispatch(entry: InFlight, why: string): Promise<void> {
    if (entry.seq !== undefined)
      await this.jsm?.streams.deleteMessage(this.names.trialsStream, entry.seq, false).catch(() => false);
    const onLost = this.handlers?.onLost;
    if (!onLost) {
      await this.retry(() =>
        publishResult(
          this.js,
          this.names,
          failedResult(entry.spec, this.options.name ?? 'orchestrator', why),
        ),
      );
      return;
    }
    this.forgetDecisions(entry.experimentId, entry.trial_id);
    await onLost({ experiment: entry.experiment, trial_id: entry.trial_id, attempt: entry.attempt }, why);
  }

  private async onDecide(id: string, msg: Msg): Promise<void> {
    // The answer goes out with the responder's rights: only to an inbox (inbox.ts).
    if (!isInboxReply(msg.reply))
      return this.invalid(`decision request on ${msg.subject}: ${replyRefusal(msg.reply)}`);
    const parsed = parseMessage(msg.data, validateDecisionRequest);
    if (!parsed.ok) return this.invalid(`decision request on ${msg.subject}: ${parsed.error}`);
    const e = parsed.value;
    if (!this.trusted(`decision request on ${msg.subject}`, e, id, e.epoch)) return;
    if (this.closing) return;
    const decision = await this.decide(e);
    if (this.closing) return;
    this.counters.decisionsAnswered++;
    msg.respond(encodeMessage({ v: PROTOCOL_VERSION, decision }));
  }

  /**
   * The handler's decision for one epoch (once per epoch, decision-cache.ts). A handler error answers
   * `continue`, unless `rethrow` says it is thrown instead (the events stream: the epoch must be recorded).
   */
  private async decide(e: EpochEvent, rethrow: (err: unknown) => boolean = () => false): Promise<Decision> {
    try {
      return await this.decisions.decide(
        e,
        (ev) => this.handlers?.onEpoch(ev) ?? Promise.resolve('continue'),
      );
    } catch (err) {
      if (rethrow(err)) throw err;
      this.counters.handlerErrors++;
      this.log.report(`decision handler failed (answering continue): ${errorText(err)}`, {
        experiment: e.experiment,
        trial: e.trial_id,
        attempt: e.attempt,
        worker: e.worker,
      });
      return 'continue';
    }
  }

  /**
   * A JetStream call retried while it fails transiently (a cluster electing a leader, a reconnect;
   * shared/nats/retry.ts), each retry logged (rate-limited), for `withinMs` (default 60 s).
   */
  private retry<T>(call: () => Promise<T>, withinMs?: number): Promise<T> {
    return retryTransient(call, {
      ...(withinMs === undefined ? {} : { withinMs }),
      stopped: () => this.nc.isClosed(),
      onRetry: (err) => this.log.report(`NATS busy, retrying: ${errorText(err)}`),
    });
  }

  private forgetDecisions(id: string, trialId: string): void {
    this.decisions.forget(id, trialId);
  }
}
