/** Options and counters of the orchestrator's NATS transport (nats-transport.ts). */
import type { NatsConnection } from '@nats-io/transport-node';
import type { StreamSettings } from '../../../shared/nats/connection.js';
import type { WorkerHeartbeat } from '../../../shared/protocol/bus.js';
import type { ExperimentKey } from './deliveries.js';
import type { Logger } from '../../../shared/log/index.js';

/** How a transport whose capacity follows the fleet counts it (fleet-slots.ts). */
export interface FleetOptions {
  /** A worker without a heartbeat for this long (ms) no longer counts (default 15000). */
  staleMs?: number;
  /** Whether a worker may run these trials, from its heartbeat (default: every worker). */
  countsWorker?: (hb: WorkerHeartbeat) => boolean;
}

export interface NatsTransportOptions {
  /** Subject prefix (default `hpo`); workers must use the same. */
  prefix?: string;
  /**
   * Experiments (name, bus id, token secret: the store's record) whose events are read from start() on,
   * e.g. the one being resumed: results published while no orchestrator was running are applied then,
   * their tokens recognised. An experiment first seen in submit() gets a secret of this process.
   */
  experiments?: ExperimentKey[];
  /**
   * Trials queued or running at once: an upper bound (default 64; with `fleet`, none). Without `fleet`,
   * capacity() is this window minus the trials in flight, so the queue stays ahead of the workers.
   */
  maxInFlight?: number;
  /**
   * Capacity follows the fleet's slots as the workers' heartbeats report them, plus a prefetch of a
   * quarter of them (at least 1; fleet-slots.ts): capacity() is that minus the trials in flight (and
   * never above `maxInFlight`), 0 while no worker is there. For adaptive strategies (TPE), which should
   * propose only as slots free up.
   */
  fleet?: FleetOptions;
  /** ack_wait of the workers' consumer: how long a silent worker keeps a trial (default 30000). */
  ackWaitMs?: number;
  /** Deliveries of one trial before it ends failed (default 5, -1: unlimited). */
  maxDeliver?: number;
  /**
   * In-flight trial deadline (ms, >= 1000): a trial with no sign of life this long (no event of its
   * delivery, and its message gone from the queue) is dispatched again as a new attempt, and after
   * `maxTrialTimeouts` such timeouts ends failed. Default ack_wait x max_deliver (docs/NATS.md).
   */
  trialTimeoutMs?: number;
  /** Timeouts of one trial before it ends failed (default 3). */
  maxTrialTimeouts?: number;
  /**
   * Refusals of one trial after which it ends failed, once no live worker offering its task is left
   * that has not refused it (default 10): while one is, the trial is queued again.
   */
  maxRefusals?: number;
  /** ack_wait of the orchestrator's events consumer (default 30000). */
  eventsAckWaitMs?: number;
  /**
   * Streams' settings, used only if the streams do not exist yet (and `eventsMaxBytes` for an events
   * stream without a byte limit).
   */
  streams?: StreamSettings;
  /**
   * Where bus problems are logged as warnings (default: the process's logger). Each distinct problem is
   * logged once a minute at most, with how many were suppressed.
   */
  logger?: Logger;
  /** Name put in failed results the orchestrator writes for trials given up (default `orchestrator`). */
  name?: string;
  /**
   * The connection that answers decision requests (default: the transport's own). On the shipped server
   * config it is the user `<orchestrator user>-replies`, which may publish on inboxes only, so the server
   * itself refuses an answer sent anywhere else (docs/RELIABILITY.md "Threat model").
   */
  responder?: NatsConnection;
  /** close() closes the NATS connection, and the responder's (default true). */
  closeConnection?: boolean;
}

export interface NatsTransportStats {
  /**
   * Messages rejected: failed validation, or without the token of the trial's current delivery (events,
   * decision requests, refusals), or an epoch beyond the trial's epochs.
   */
  invalidMessages: number;
  /** Refused trials queued again for another worker. */
  requeued: number;
  resultsApplied: number;
  decisionsAnswered: number;
  /**
   * Handler errors (the event is retried up to 5 deliveries; one whose store cannot write, for as long as
   * it takes).
   */
  handlerErrors: number;
  /** Trials found lost in flight by the trial deadline (each dispatched again, or failed). */
  timedOut: number;
}
