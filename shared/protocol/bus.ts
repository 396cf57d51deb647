/**
 * The NATS message bus: the messages that exist only on the bus (decision replies, cancels, worker
 * heartbeats) and the names of every subject, stream, consumer and message id. See docs/NATS.md.
 */
import { createHash } from 'node:crypto';
import type { Decision, EpochEvent, PROTOCOL_VERSION, ResultEvent, TrialSpec } from './trial.js';

/** The orchestrator's answer to a decision request (the request is the EpochEvent itself). */
export interface DecisionReply {
  v: typeof PROTOCOL_VERSION;
  decision: Decision;
}

/** Stops running trials of an experiment (all of them, or the one named). */
export interface CancelMessage {
  v: typeof PROTOCOL_VERSION;
  experiment: string;
  trial_id?: string;
}

/** What a worker announces every few seconds (and on a ping). */
export interface WorkerHeartbeat {
  v: typeof PROTOCOL_VERSION;
  /** Worker name (unique in the fleet by convention: host:pid unless given). */
  name: string;
  /** Executor slots: trials it runs at once. */
  slots: number;
  /** Trials held right now (running, or being accepted / reported). */
  busy: number;
  /** Backend the worker was asked for (e.g. cpu, wasm, tensorflow), if known. */
  backend?: string;
  /** Trials finished with a published result since the worker started. */
  trials_done: number;
  /** Epoch ms. */
  started_at: number;
  /** Epoch ms when this heartbeat was sent. */
  sent_at: number;
  /** True once drain() began: the worker takes no new trials. */
  draining: boolean;
  /** Invalid messages received so far. */
  invalid_messages: number;
  /** Tasks offered beyond the built-in ones, as `name@sha256-prefix` (at most 100). */
  tasks?: string[];
}

export const DEFAULT_SUBJECT_PREFIX = 'hpo';
/** The one durable pull consumer on the trials stream, shared by every worker. */
export const WORKERS_CONSUMER = 'workers';

const SAFE_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** True if `prefix` is usable as a subject prefix (dot-separated tokens of [A-Za-z0-9_-]). */
export function isValidSubjectPrefix(prefix: string): boolean {
  return PREFIX.test(prefix) && prefix.length <= 100;
}

/**
 * The experiment's name as one subject token (also used in consumer names and message ids). Names made
 * of [A-Za-z0-9_-] (up to 64 characters) are used as they are; any other name becomes its sanitized
 * form plus 8 hex digits of its sha256, so `.`, `*`, `>`, spaces never reach a subject.
 */
export function experimentToken(experiment: string): string {
  if (SAFE_TOKEN.test(experiment)) return experiment;
  const hash = createHash('sha256').update(experiment).digest('hex').slice(0, 8);
  const readable = experiment.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return `${readable}_${hash}`;
}

/** Every name the NATS transport and workers use, for one subject prefix. */
export interface BusNames {
  prefix: string;
  /** Work-queue stream of trial specs. */
  trialsStream: string;
  /** Durable stream of epoch and result events. */
  eventsStream: string;
  trialsWildcard: string;
  eventsWildcard: string;
  cancelWildcard: string;
  heartbeatSubject: string;
  pingSubject: string;
  trialsSubject(experiment: string): string;
  eventsSubject(experiment: string, kind: 'epoch' | 'result'): string;
  /** Filter subject of the orchestrator's events consumer for one experiment. */
  eventsFilter(experiment: string): string;
  decideSubject(experiment: string): string;
  cancelSubject(experiment: string): string;
  /** Request/reply: status and leaderboard questions answered by the running orchestrator. */
  querySubject(experiment: string): string;
  /** Durable consumer through which the orchestrator reads one experiment's events. */
  orchestratorConsumer(experiment: string): string;
  /** Advisory the server sends when a trial message used up its max_deliver deliveries. */
  maxDeliveriesAdvisory: string;
}

export function busNames(prefix: string = DEFAULT_SUBJECT_PREFIX): BusNames {
  if (!isValidSubjectPrefix(prefix)) {
    throw new Error(`invalid subject prefix '${prefix}': use dot-separated tokens of [A-Za-z0-9_-]`);
  }
  const streamBase = prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
  const trialsStream = `${streamBase}_TRIALS`;
  const tok = experimentToken;
  return {
    prefix,
    trialsStream,
    eventsStream: `${streamBase}_EVENTS`,
    trialsWildcard: `${prefix}.trials.>`,
    eventsWildcard: `${prefix}.events.>`,
    cancelWildcard: `${prefix}.cancel.>`,
    heartbeatSubject: `${prefix}.workers.heartbeat`,
    pingSubject: `${prefix}.workers.ping`,
    trialsSubject: (e) => `${prefix}.trials.${tok(e)}`,
    eventsSubject: (e, kind) => `${prefix}.events.${tok(e)}.${kind}`,
    eventsFilter: (e) => `${prefix}.events.${tok(e)}.>`,
    decideSubject: (e) => `${prefix}.decide.${tok(e)}`,
    cancelSubject: (e) => `${prefix}.cancel.${tok(e)}`,
    querySubject: (e) => `${prefix}.query.${tok(e)}`,
    orchestratorConsumer: (e) => `orch_${tok(e)}`,
    maxDeliveriesAdvisory: `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${trialsStream}.${WORKERS_CONSUMER}`,
  };
}

/** Message id (JetStream de-duplication) of a trial spec: `<experiment>/<trial_id>/<attempt>`. */
export function trialMsgId(spec: Pick<TrialSpec, 'experiment' | 'trial_id' | 'attempt'>): string {
  return `${experimentToken(spec.experiment)}/${spec.trial_id}/${spec.attempt}`;
}

export function epochMsgId(e: Pick<EpochEvent, 'experiment' | 'trial_id' | 'attempt' | 'epoch'>): string {
  return `${trialMsgId(e)}/epoch/${e.epoch}`;
}

/**
 * Message id of a result. A worker adds the delivery of the trial message it ran: a retried publish of
 * one delivery's result is a duplicate, while a late result of an earlier delivery (a worker frozen past
 * ack_wait) still reaches the orchestrator, whose store keeps the first result of a trial.
 */
export function resultMsgId(
  r: Pick<ResultEvent, 'experiment' | 'trial_id' | 'attempt'>,
  delivery?: number,
): string {
  return `${trialMsgId(r)}/result${delivery === undefined ? '' : `/d${delivery}`}`;
}
