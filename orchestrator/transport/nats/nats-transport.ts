/**
 * Orchestrator side of the NATS transport: queues trials on the JetStream work queue (each dispatch with
 * a delivery token, deliveries.ts), reads epoch, result and refusal events from a durable per-experiment
 * consumer (acked only after the handler ran, so events produced while the orchestrator was down are
 * applied when it comes back), answers per-epoch decision requests, re-queues refused trials, fails
 * trials that used up their deliveries, and cancels by removing the trials' messages and telling
 * workers to abort running ones. Everything is addressed by the experiment's bus id. See docs/NATS.md.
 */
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type Msg, type NatsConnection, type Subscription, headers, nanos } from '@nats-io/transport-node';
import {
  type BusNames,
  DEFAULT_SUBJECT_PREFIX,
  REFUSALS_HEADER,
  type RefusalEvent,
  busNames,
  trialMsgId,
} from '../../../shared/protocol/bus.js';
import {
  type Decision,
  type EpochEvent,
  PROTOCOL_VERSION,
  type TrialSpec,
} from '../../../shared/protocol/index.js';
import {
  encodeMessage,
  parseMessage,
  validateDecisionRequest,
  validateEpochEvent,
  validateRefusalEvent,
  validateResultEvent,
  validateTrialSpec,
} from '../../../shared/protocol/validate.js';
import { HpoError } from '../../../shared/errors.js';
import { childLogger, RateLimitedLog } from '../../../shared/log/index.js';
import {
  ensureStreams,
  ensureWorkersConsumer,
  errorText,
  watchMaxDeliveries,
} from '../../../shared/nats/connection.js';
import type { Transport, TransportHandlers } from '../transport.js';
import { type DeliveryClaim, Deliveries } from './deliveries.js';
import type { NatsTransportOptions, NatsTransportStats } from './nats-transport-options.js';

export type { NatsTransportOptions, NatsTransportStats } from './nats-transport-options.js';

interface Listener {
  ready: Promise<void>;
  messages?: ConsumerMessages;
  decide?: Subscription;
  loop?: Promise<void>;
}

/** Deliveries of one event to a throwing handler before it is dropped (termed). */
const EVENT_MAX_ATTEMPTS = 5;

const key = (id: string, trialId: string) => `${id}\0${trialId}`;

export class NatsTransport implements Transport {
  readonly name = 'nats';
  private readonly names: BusNames;
  private readonly js: JetStreamClient;
  private jsm?: JetStreamManager;
  private handlers?: TransportHandlers;
  private readonly deliveries: Deliveries;
  /** By experiment bus id. */
  private readonly listeners = new Map<string, Listener>();
  /** Decisions per (trial, attempt, epoch, worker): each epoch reaches the handler once. */
  private readonly decisions = new Map<string, Promise<Decision>>();
  private readonly log: RateLimitedLog;
  private readonly maxInFlight: number;
  private advisories?: { unsubscribe(): void };
  private closing = false;
  private closed?: Promise<void>;
  private readonly counters: NatsTransportStats = {
    invalidMessages: 0,
    requeued: 0,
    resultsApplied: 0,
    decisionsAnswered: 0,
    handlerErrors: 0,
  };

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: NatsTransportOptions = {},
  ) {
    this.names = busNames(options.prefix ?? DEFAULT_SUBJECT_PREFIX);
    this.deliveries = new Deliveries(options.experiments);
    this.js = jetstream(nc);
    this.log = new RateLimitedLog(options.logger ?? childLogger({ component: 'nats-transport' }));
    this.maxInFlight = options.maxInFlight ?? 64;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) {
      throw new HpoError('maxInFlight must be a positive integer');
    }
    const maxDeliver = options.maxDeliver ?? 5;
    if (!Number.isInteger(maxDeliver) || (maxDeliver < 1 && maxDeliver !== -1)) {
      throw new HpoError('maxDeliver must be a positive integer (or -1: unlimited)');
    }
    if ((options.ackWaitMs ?? 30_000) < 1000) throw new HpoError('ackWaitMs must be at least 1000');
  }

  /** Messages rejected by validation so far (for metrics). */
  get invalidMessages(): number {
    return this.counters.invalidMessages;
  }

  stats(): NatsTransportStats {
    return { ...this.counters };
  }

  async start(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
    const jsm = await jetstreamManager(this.nc);
    this.jsm = jsm;
    await ensureStreams(jsm, this.names, this.options.streams);
    await ensureWorkersConsumer(
      jsm,
      this.names,
      { ackWaitMs: this.options.ackWaitMs ?? 30_000, maxDeliver: this.options.maxDeliver ?? 5 },
      true,
    );
    this.advisories = watchMaxDeliveries(this.nc, this.js, jsm, this.names, {
      accept: (id) => this.listeners.has(id),
      worker: this.options.name ?? 'orchestrator',
      onError: (m) => this.log.report(m),
    });
    for (const k of this.options.experiments ?? []) await this.listen(k.id, true);
  }

  capacity(): number {
    return Math.max(0, this.maxInFlight - this.deliveries.size);
  }

  inFlight(): number {
    return this.deliveries.size;
  }

  async submit(spec: TrialSpec): Promise<void> {
    if (!this.handlers || !this.jsm)
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
      const ack = await this.js.publish(
        this.names.trialsSubject(spec.experiment_id),
        encodeMessage(checked.value),
        { msgID: trialMsgId(spec) },
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
    this.advisories?.unsubscribe();
    const listeners = [...this.listeners.values()];
    await Promise.all(listeners.map((l) => l.ready.catch(() => undefined)));
    for (const l of listeners) l.decide?.unsubscribe();
    await Promise.all(listeners.map((l) => l.messages?.close().catch(() => undefined)));
    await Promise.all(listeners.map((l) => l.loop));
    if (this.options.closeConnection !== false && !this.nc.isClosed()) {
      await this.nc.flush().catch(() => undefined);
      await this.nc.close();
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
    const durable = this.names.orchestratorConsumer(id);
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.names.eventsFilter(id),
      ack_wait: nanos(this.options.eventsAckWaitMs ?? 30_000),
      max_ack_pending: 1000,
    };
    try {
      const info = await jsm.consumers.info(this.names.eventsStream, durable);
      if (info.num_ack_pending > 0 && resumed) {
        // A previous orchestrator died holding these events: the server would hand them back only after
        // ack_wait, after later ones (a trial's result before its last epoch, whose row would be lost).
        // Replay from the ack floor, in stream order; handlers are idempotent.
        await jsm.consumers.delete(this.names.eventsStream, durable);
        await jsm.consumers.add(this.names.eventsStream, {
          ...config,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: info.ack_floor.stream_seq + 1,
        });
      }
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
      await jsm.consumers.add(this.names.eventsStream, config);
    }
    listener.decide = this.nc.subscribe(this.names.decideSubject(id), {
      callback: (err, msg) => {
        if (!err) void this.onDecide(id, msg);
      },
    });
    const consumer = await this.js.consumers.get(this.names.eventsStream, durable);
    const messages = await consumer.consume({ max_messages: 64 });
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
    const kind = (['epoch', 'result', 'refused'] as const).find(
      (k) => m.subject === this.names.eventsSubject(id, k),
    );
    if (!kind) {
      this.invalid(`event on unexpected subject ${m.subject}`);
      return m.term();
    }
    try {
      if (kind === 'refused') {
        const parsed = parseMessage(m.data, validateRefusalEvent);
        if (!parsed.ok) this.invalid(`refusal on ${m.subject}: ${parsed.error}`);
        else {
          const verdict = this.trusted(`refusal on ${m.subject}`, parsed.value, id);
          if (verdict?.kind === 'current') await this.requeue(parsed.value, verdict.entry);
        }
      } else if (kind === 'result') {
        const parsed = parseMessage(m.data, validateResultEvent);
        if (!parsed.ok) this.invalid(`result event on ${m.subject}: ${parsed.error}`);
        else {
          const result = parsed.value;
          const verdict = this.trusted(`result event on ${m.subject}`, result, id, result.epochs);
          if (verdict) {
            if (verdict.kind === 'current') this.deliveries.end(id, result.trial_id, verdict.entry);
            this.forgetDecisions(id, result.trial_id);
            // Kept alive while the handler runs (it may fetch a saved model from the object store).
            const keepAlive = setInterval(() => m.working(), 10_000);
            try {
              await handlers.onResult(result);
            } finally {
              clearInterval(keepAlive);
            }
            this.counters.resultsApplied++;
          }
        }
      } else {
        const parsed = parseMessage(m.data, validateEpochEvent);
        if (!parsed.ok) this.invalid(`epoch event on ${m.subject}: ${parsed.error}`);
        // Normally answered already through the decision request; applied here if it was not (the
        // orchestrator was down, or the request timed out).
        else if (this.trusted(`epoch event on ${m.subject}`, parsed.value, id, parsed.value.epoch))
          await this.decide(parsed.value);
      }
      m.ack();
    } catch (err) {
      this.counters.handlerErrors++;
      this.log.report(`event handler failed: ${errorText(err)}`, { experiment_id: id, subject: m.subject });
      if (m.info.deliveryCount >= EVENT_MAX_ATTEMPTS) m.term();
      else m.nak(1000);
    }
  }

  /**
   * A worker refused the trial's delivery before its last one (and termed it): queue it again as a new
   * message with the refusals so far (its message id makes a retried publish a duplicate). Publishing
   * trials is the orchestrator's right alone; a worker only reports.
   */
  private async requeue(refusal: RefusalEvent, entry: ReturnType<Deliveries['dispatch']>): Promise<void> {
    const h = headers();
    h.set(REFUSALS_HEADER, String(refusal.refusals));
    const ack = await this.js.publish(
      this.names.trialsSubject(entry.experimentId),
      encodeMessage(entry.spec),
      { msgID: `${trialMsgId(entry.spec)}/requeued/${refusal.refusals}`, headers: h },
    );
    entry.seq = ack.seq;
    this.counters.requeued++;
  }

  private async onDecide(id: string, msg: Msg): Promise<void> {
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

  /** The handler's decision for one epoch, computed once however often the epoch arrives. */
  private decide(e: EpochEvent): Promise<Decision> {
    const k = `${key(e.experiment_id, e.trial_id)}\0${e.attempt}\0${e.epoch}\0${e.worker}`;
    let decision = this.decisions.get(k);
    if (!decision) {
      const handlers = this.handlers;
      decision = (handlers ? handlers.onEpoch(e) : Promise.resolve<Decision>('continue')).then(
        (d): Decision => (d === 'stop' ? 'stop' : 'continue'),
        (err: unknown): Decision => {
          this.counters.handlerErrors++;
          this.log.report(`decision handler failed (answering continue): ${errorText(err)}`, {
            experiment: e.experiment,
            trial: e.trial_id,
            attempt: e.attempt,
            worker: e.worker,
          });
          return 'continue';
        },
      );
      if (this.decisions.size >= 100_000) this.decisions.clear();
      this.decisions.set(k, decision);
    }
    return decision;
  }

  private forgetDecisions(id: string, trialId: string): void {
    const prefix = `${key(id, trialId)}\0`;
    for (const k of this.decisions.keys()) if (k.startsWith(prefix)) this.decisions.delete(k);
  }
}
