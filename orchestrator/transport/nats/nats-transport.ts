/**
 * Orchestrator side of the NATS transport: queues trials on the JetStream work queue, reads epoch and
 * result events from a durable per-experiment consumer (acked only after the handler ran, so events
 * produced while the orchestrator was down are applied when it comes back), answers per-epoch decision
 * requests, and cancels by purging queued trials and telling workers to abort running ones.
 * See docs/NATS.md.
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
import { type Msg, type NatsConnection, type Subscription, nanos } from '@nats-io/transport-node';
import { type BusNames, DEFAULT_SUBJECT_PREFIX, busNames, trialMsgId } from '../../../shared/protocol/bus.js';
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
  validateResultEvent,
  validateTrialSpec,
} from '../../../shared/protocol/validate.js';
import { HpoError } from '../../../shared/errors.js';
import { childLogger, type Logger, RateLimitedLog } from '../../../shared/log/index.js';
import {
  type StreamSettings,
  ensureStreams,
  ensureWorkersConsumer,
  errorText,
  watchMaxDeliveries,
} from '../../../shared/nats/connection.js';
import type { Transport, TransportHandlers } from '../transport.js';

export interface NatsTransportOptions {
  /** Subject prefix (default `hpo`); workers must use the same. */
  prefix?: string;
  /**
   * Experiments whose events are read from start() on, e.g. the one being resumed: results published
   * while no orchestrator was running are applied then. (Any experiment submitted to is added too.)
   */
  experiments?: string[];
  /**
   * Trials queued or running at once (default 64). The orchestrator does not know the fleet's slots:
   * capacity() is this window minus the trials in flight, so the queue stays ahead of the workers.
   */
  maxInFlight?: number;
  /** ack_wait of the workers' consumer: how long a silent worker keeps a trial (default 30000). */
  ackWaitMs?: number;
  /** Deliveries of one trial before it ends failed (default 5, -1: unlimited). */
  maxDeliver?: number;
  /** ack_wait of the orchestrator's events consumer (default 30000). */
  eventsAckWaitMs?: number;
  /** Streams' settings, used only if the streams do not exist yet. */
  streams?: StreamSettings;
  /**
   * Where bus problems are logged as warnings (default: the process's logger). Each distinct problem is
   * logged once a minute at most, with how many were suppressed.
   */
  logger?: Logger;
  /** Name put in failed results the orchestrator writes for trials given up (default `orchestrator`). */
  name?: string;
  /** close() closes the NATS connection (default true). */
  closeConnection?: boolean;
}

export interface NatsTransportStats {
  /** Messages that failed validation (events, decision requests). */
  invalidMessages: number;
  resultsApplied: number;
  decisionsAnswered: number;
  /** Handler errors (the event is retried up to 5 deliveries). */
  handlerErrors: number;
}

interface InFlight {
  experiment: string;
  trial_id: string;
  attempt: number;
  /** Stream sequence of the queued trial message (to delete it on a one-trial cancel). */
  seq?: number;
}

interface Listener {
  ready: Promise<void>;
  messages?: ConsumerMessages;
  decide?: Subscription;
  loop?: Promise<void>;
}

/** Deliveries of one event to a throwing handler before it is dropped (termed). */
const EVENT_MAX_ATTEMPTS = 5;

const key = (experiment: string, trialId: string) => `${experiment}\0${trialId}`;

export class NatsTransport implements Transport {
  readonly name = 'nats';
  private readonly names: BusNames;
  private readonly js: JetStreamClient;
  private jsm?: JetStreamManager;
  private handlers?: TransportHandlers;
  private readonly running = new Map<string, InFlight>();
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
    resultsApplied: 0,
    decisionsAnswered: 0,
    handlerErrors: 0,
  };

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: NatsTransportOptions = {},
  ) {
    this.names = busNames(options.prefix ?? DEFAULT_SUBJECT_PREFIX);
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
      accept: (experiment) => this.listeners.has(experiment),
      worker: this.options.name ?? 'orchestrator',
      onError: (m) => this.log.report(m),
    });
    for (const experiment of this.options.experiments ?? []) await this.listen(experiment);
  }

  capacity(): number {
    return Math.max(0, this.maxInFlight - this.running.size);
  }

  inFlight(): number {
    return this.running.size;
  }

  async submit(spec: TrialSpec): Promise<void> {
    if (!this.handlers || !this.jsm)
      throw new HpoError('transport not started: call start(handlers) before submit');
    if (this.closing) throw new HpoError('transport closed');
    const checked = validateTrialSpec(spec);
    if (!checked.ok) throw new HpoError(`invalid trial spec: ${checked.error}`);
    const k = key(spec.experiment, spec.trial_id);
    const existing = this.running.get(k);
    if (existing && existing.attempt === spec.attempt) return; // a duplicate submit is a no-op
    await this.listen(spec.experiment);
    const entry: InFlight = { experiment: spec.experiment, trial_id: spec.trial_id, attempt: spec.attempt };
    this.running.set(k, entry);
    try {
      const ack = await this.js.publish(
        this.names.trialsSubject(spec.experiment),
        encodeMessage(checked.value),
        {
          msgID: trialMsgId(spec),
        },
      );
      entry.seq = ack.seq;
    } catch (err) {
      if (this.running.get(k) === entry) this.running.delete(k);
      throw new HpoError(`could not queue trial ${spec.trial_id} on NATS: ${errorText(err)}`, { cause: err });
    }
  }

  async cancel(experiment: string, trialId?: string): Promise<void> {
    const jsm = this.jsm;
    if (!jsm) return;
    const targets = [...this.running.entries()].filter(
      ([, t]) => t.experiment === experiment && (trialId === undefined || t.trial_id === trialId),
    );
    // Queued trials first, then the running ones: a worker that got a message before the purge sees it
    // before the cancel (one connection delivers in order).
    if (trialId === undefined) {
      await jsm.streams
        .purge(this.names.trialsStream, { filter: this.names.trialsSubject(experiment) })
        .catch((err: unknown) =>
          this.log.report(`could not purge queued trials: ${errorText(err)}`, { experiment }),
        );
    } else {
      for (const [, t] of targets) {
        if (t.seq !== undefined)
          await jsm.streams.deleteMessage(this.names.trialsStream, t.seq, false).catch(() => false);
      }
    }
    this.nc.publish(
      this.names.cancelSubject(experiment),
      encodeMessage({
        v: PROTOCOL_VERSION,
        experiment,
        ...(trialId === undefined ? {} : { trial_id: trialId }),
      }),
    );
    await this.nc.flush();
    for (const [k, t] of targets) {
      this.running.delete(k);
      this.forgetDecisions(t.experiment, t.trial_id);
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

  /** Starts reading the experiment's events and answering its decision requests (once). */
  private listen(experiment: string): Promise<void> {
    const existing = this.listeners.get(experiment);
    if (existing) return existing.ready;
    const listener: Listener = { ready: Promise.resolve() };
    listener.ready = this.setUpListener(experiment, listener);
    this.listeners.set(experiment, listener);
    listener.ready.catch(() => this.listeners.delete(experiment));
    return listener.ready;
  }

  private async setUpListener(experiment: string, listener: Listener): Promise<void> {
    const jsm = this.jsm;
    if (!jsm) throw new HpoError('transport not started');
    const durable = this.names.orchestratorConsumer(experiment);
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.names.eventsFilter(experiment),
      ack_wait: nanos(this.options.eventsAckWaitMs ?? 30_000),
      max_ack_pending: 1000,
    };
    try {
      const info = await jsm.consumers.info(this.names.eventsStream, durable);
      if (info.num_ack_pending > 0 && (this.options.experiments ?? []).includes(experiment)) {
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
    listener.decide = this.nc.subscribe(this.names.decideSubject(experiment), {
      callback: (err, msg) => {
        if (!err) void this.onDecide(experiment, msg);
      },
    });
    const consumer = await this.js.consumers.get(this.names.eventsStream, durable);
    const messages = await consumer.consume({ max_messages: 64 });
    listener.messages = messages;
    listener.loop = (async () => {
      try {
        for await (const m of messages) {
          if (this.closing) m.nak();
          else await this.onEvent(experiment, m);
        }
      } catch (err) {
        if (!this.closing)
          this.log.report(`reading events of experiment '${experiment}' stopped: ${errorText(err)}`, {
            experiment,
          });
      }
    })();
    await this.nc.flush();
  }

  private invalid(reason: string, experiment: string): void {
    this.counters.invalidMessages++;
    this.log.report(`rejected invalid message: ${reason}`, { experiment });
  }

  private async onEvent(experiment: string, m: JsMsg): Promise<void> {
    const handlers = this.handlers;
    if (!handlers) return m.nak();
    const isResult = m.subject === this.names.eventsSubject(experiment, 'result');
    if (!isResult && m.subject !== this.names.eventsSubject(experiment, 'epoch')) {
      this.invalid(`event on unexpected subject ${m.subject}`, experiment);
      return m.term();
    }
    const parsed = isResult
      ? parseMessage(m.data, validateResultEvent)
      : parseMessage(m.data, validateEpochEvent);
    if (!parsed.ok) {
      this.invalid(`${isResult ? 'result' : 'epoch'} event on ${m.subject}: ${parsed.error}`, experiment);
      return m.term();
    }
    if (parsed.value.experiment !== experiment) {
      this.invalid(
        `event on ${m.subject}: experiment '${parsed.value.experiment}' does not belong on this subject`,
        experiment,
      );
      return m.term();
    }
    try {
      if ('state' in parsed.value) {
        const result = parsed.value;
        const k = key(result.experiment, result.trial_id);
        this.running.delete(k);
        this.forgetDecisions(result.experiment, result.trial_id);
        await handlers.onResult(result);
        this.counters.resultsApplied++;
      } else {
        // Normally answered already through the decision request; applied here if it was not (the
        // orchestrator was down, or the request timed out).
        await this.decide(parsed.value);
      }
      m.ack();
    } catch (err) {
      this.counters.handlerErrors++;
      this.log.report(`event handler failed: ${errorText(err)}`, {
        experiment,
        trial: parsed.value.trial_id,
        attempt: parsed.value.attempt,
        worker: parsed.value.worker,
      });
      if (m.info.deliveryCount >= EVENT_MAX_ATTEMPTS) m.term();
      else m.nak(1000);
    }
  }

  private async onDecide(experiment: string, msg: Msg): Promise<void> {
    const parsed = parseMessage(msg.data, validateDecisionRequest);
    if (!parsed.ok) return this.invalid(`decision request on ${msg.subject}: ${parsed.error}`, experiment);
    if (parsed.value.experiment !== experiment) {
      return this.invalid(
        `decision request on ${msg.subject}: experiment '${parsed.value.experiment}' does not belong on this subject`,
        experiment,
      );
    }
    if (this.closing) return;
    const decision = await this.decide(parsed.value);
    if (this.closing) return;
    this.counters.decisionsAnswered++;
    msg.respond(encodeMessage({ v: PROTOCOL_VERSION, decision }));
  }

  /** The handler's decision for one epoch, computed once however often the epoch arrives. */
  private decide(e: EpochEvent): Promise<Decision> {
    const k = `${key(e.experiment, e.trial_id)}\0${e.attempt}\0${e.epoch}\0${e.worker}`;
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

  private forgetDecisions(experiment: string, trialId: string): void {
    const prefix = `${key(experiment, trialId)}\0`;
    for (const k of this.decisions.keys()) if (k.startsWith(prefix)) this.decisions.delete(k);
  }
}
