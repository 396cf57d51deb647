/**
 * The NATS message bus: the messages that exist only on the bus (decision replies, cancels, worker
 * heartbeats) and the names of every subject, stream, consumer and message id. See docs/NATS.md.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { DeliveryFields, EpochEvent, TrialSpec } from './trial.js';
import type {
  CancelMessageSchema,
  DecisionReplySchema,
  RefusalEventSchema,
  StartedEventSchema,
  WorkerHeartbeatSchema,
} from './schema/bus-messages.js';
import { BUS_ID_PATTERN, TASK_ROUTE_PATTERN } from './schema/fields.js';

/**
 * The messages that exist only on the bus, derived from their schemas (schema/bus-messages.ts, where
 * each field is described): one description gives both these types and the validators (validate.ts).
 */
/** The orchestrator's answer to a decision request (the request is the EpochEvent itself). */
export type DecisionReply = Static<typeof DecisionReplySchema>;
/** Stops running trials of an experiment (all of them, or the one named). */
export type CancelMessage = Static<typeof CancelMessageSchema>;
/** A worker that will not run a trial (e.g. its data set differs) before the message's last delivery. */
export type RefusalEvent = Static<typeof RefusalEventSchema>;
/** A worker began running the trial's delivery (it passed the accept check). */
export type StartedEvent = Static<typeof StartedEventSchema>;
/** What a worker announces every few seconds (and on a ping). */
export type WorkerHeartbeat = Static<typeof WorkerHeartbeatSchema>;

export const DEFAULT_SUBJECT_PREFIX = 'hpo';
/**
 * The single unfiltered workers consumer of protocol versions before task routes. A work queue accepts
 * no consumer overlapping it, so the orchestrator deletes it (removeLegacyWorkersConsumer).
 */
export const LEGACY_WORKERS_CONSUMER = 'workers';

const TASK_ROUTE = new RegExp(TASK_ROUTE_PATTERN);

/**
 * The route of a task on the bus: 32 lowercase hex digits, the first 128 bits of the sha256 of
 * `<task name>\n<task sha256, or nothing for a built-in task>`. Each task (each built-in one too) has
 * its own trials subject and pull consumer, so a trial reaches only workers that offer its task; a
 * route is never a path or a name a message chose, and always one subject token.
 */
export function taskRoute(task: string, sha256?: string): string {
  return createHash('sha256')
    .update(`${task}\n${sha256 ?? ''}`)
    .digest('hex')
    .slice(0, 32);
}

/** True if `route` can be a task route (taskRoute): exactly 32 lowercase hex digits. */
export function isTaskRoute(route: string): boolean {
  return TASK_ROUTE.test(route);
}

/** `name@<first 12 hex of sha256>`, how tasks are shown (and named in heartbeats); a built-in task by name. */
export function taskLabel(name: string, sha256: string | undefined): string {
  return sha256 === undefined ? name : `${name}@${sha256.slice(0, 12)}`;
}

/** The route of a trial's task. */
export function trialRoute(spec: Pick<TrialSpec, 'task' | 'task_sha256'>): string {
  return taskRoute(spec.task, spec.task_sha256);
}

const BUS_ID = new RegExp(BUS_ID_PATTERN);
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** True if `id` can be an experiment id on the bus: 1-64 characters of [A-Za-z0-9_-]. */
export function isBusId(id: string): boolean {
  return BUS_ID.test(id);
}

/** A new random experiment id (16 hex digits: 64 random bits). */
export function newBusId(): string {
  return randomBytes(8).toString('hex');
}

/** True if `prefix` is usable as a subject prefix (dot-separated tokens of [A-Za-z0-9_-]). */
export function isValidSubjectPrefix(prefix: string): boolean {
  return PREFIX.test(prefix) && prefix.length <= 100;
}

/**
 * The experiment's name as one subject token, injectively (two names never share a token): letters,
 * digits and `-` stay; `_` becomes `__`; every other UTF-8 byte becomes `_` and two upper-case hex
 * digits (`a.b` -> `a_2Eb`). Used only where a reader knows the name and not the id (status questions).
 */
export function nameToken(name: string): string {
  let out = '';
  for (const ch of name) {
    if (/[A-Za-z0-9-]/.test(ch)) out += ch;
    else if (ch === '_') out += '__';
    else for (const b of Buffer.from(ch, 'utf8')) out += `_${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
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
  /**
   * Subjects of one experiment are named by its id (isBusId), never by its name; a trial's subject ends
   * with its task's route (taskRoute): `<prefix>.trials.<id>.<route>`.
   */
  trialsSubject(experimentId: string, route: string): string;
  /** All trial subjects of one experiment, whatever their route: `<prefix>.trials.<id>.*`. */
  experimentTrials(experimentId: string): string;
  /** The durable pull consumer of one task route, `workers_<route>`, shared by the workers offering it. */
  workersConsumer(route: string): string;
  /** Its filter subject: the route's trials of every experiment. */
  workersFilter(route: string): string;
  eventsSubject(experimentId: string, kind: EventKind): string;
  /** Filter subject of the orchestrator's events consumer for one experiment. */
  eventsFilter(experimentId: string): string;
  decideSubject(experimentId: string): string;
  cancelSubject(experimentId: string): string;
  /** Request/reply: status and leaderboard questions answered by the running orchestrator (by name). */
  querySubject(experimentName: string): string;
  /** Durable consumer through which the orchestrator reads one experiment's events. */
  orchestratorConsumer(experimentId: string): string;
  /**
   * Advisories the server sends when a trial message used up its max_deliver deliveries (a wildcard over
   * the workers consumers; maxDeliveriesAdvisoryOf names one).
   */
  maxDeliveriesAdvisory: string;
  maxDeliveriesAdvisoryOf(route: string): string;
}

/** The kinds of message on the events stream: `<prefix>.events.<id>.<kind>`. */
export type EventKind = 'started' | 'epoch' | 'result' | 'refused';

function checkedId(id: string): string {
  if (!isBusId(id)) throw new Error(`invalid experiment id '${id}' for the bus: use 1-64 of [A-Za-z0-9_-]`);
  return id;
}

function checkedRoute(route: string): string {
  if (!isTaskRoute(route)) throw new Error(`invalid task route '${route}' for the bus: use 32 hex digits`);
  return route;
}

export function busNames(prefix: string = DEFAULT_SUBJECT_PREFIX): BusNames {
  if (!isValidSubjectPrefix(prefix)) {
    throw new Error(`invalid subject prefix '${prefix}': use dot-separated tokens of [A-Za-z0-9_-]`);
  }
  const streamBase = prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
  const trialsStream = `${streamBase}_TRIALS`;
  const tok = checkedId;
  const route = checkedRoute;
  return {
    prefix,
    trialsStream,
    eventsStream: `${streamBase}_EVENTS`,
    trialsWildcard: `${prefix}.trials.>`,
    eventsWildcard: `${prefix}.events.>`,
    cancelWildcard: `${prefix}.cancel.>`,
    heartbeatSubject: `${prefix}.workers.heartbeat`,
    pingSubject: `${prefix}.workers.ping`,
    trialsSubject: (e, r) => `${prefix}.trials.${tok(e)}.${route(r)}`,
    experimentTrials: (e) => `${prefix}.trials.${tok(e)}.*`,
    workersConsumer: (r) => `workers_${route(r)}`,
    workersFilter: (r) => `${prefix}.trials.*.${route(r)}`,
    eventsSubject: (e, kind) => `${prefix}.events.${tok(e)}.${kind}`,
    eventsFilter: (e) => `${prefix}.events.${tok(e)}.>`,
    decideSubject: (e) => `${prefix}.decide.${tok(e)}`,
    cancelSubject: (e) => `${prefix}.cancel.${tok(e)}`,
    querySubject: (name) => `${prefix}.query.${nameToken(name)}`,
    orchestratorConsumer: (e) => `orch_${tok(e)}`,
    maxDeliveriesAdvisory: `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${trialsStream}.*`,
    maxDeliveriesAdvisoryOf: (r) =>
      `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${trialsStream}.workers_${route(r)}`,
  };
}

/** The subject a trial is queued on: its experiment's id and its task's route. */
export function trialSubject(
  names: BusNames,
  spec: Pick<TrialSpec, 'experiment_id' | 'task' | 'task_sha256'>,
): string {
  return names.trialsSubject(spec.experiment_id, trialRoute(spec));
}

/**
 * Message id (JetStream de-duplication) of a trial spec: `<experiment_id>/<trial_id>/<attempt>`. Only
 * the orchestrator may publish trials (deploy/nats/), so this one may be predictable.
 */
export function trialMsgId(spec: Pick<TrialSpec, 'experiment_id' | 'trial_id' | 'attempt'>): string {
  return `${spec.experiment_id}/${spec.trial_id}/${spec.attempt}`;
}

/**
 * The message id of an event about one delivery: `base` followed by `/` and an HMAC-SHA256 of `base`
 * keyed by the delivery's token (22 base64url characters). Events share their stream with every
 * worker's publishes, and the stream drops a message whose id it has seen within its duplicate window:
 * an id anyone could compute would let a client without the token publish first and have the real
 * event dropped. Only a holder of the token can compute this one. Without a token (an event the
 * orchestrator refuses anyway) the tag is random: nothing to de-duplicate.
 */
export function keyedMsgId(token: string | undefined, base: string): string {
  const tag =
    token === undefined || token === ''
      ? randomBytes(16).toString('base64url')
      : createHmac('sha256', token).update(base).digest('base64url');
  return `${base}/${tag.slice(0, 22)}`;
}

type Delivery = Pick<DeliveryFields, 'experiment_id' | 'trial_id' | 'attempt' | 'token'>;

export function epochMsgId(e: Delivery & Pick<EpochEvent, 'epoch'>): string {
  return keyedMsgId(e.token, `${trialMsgId(e)}/epoch/${e.epoch}`);
}

/**
 * Message id of a result. A worker adds the delivery of the trial message it ran: a retried publish of
 * one delivery's result is a duplicate, while a late result of an earlier delivery (a worker frozen past
 * ack_wait) still reaches the orchestrator, whose store keeps the first result of a trial.
 */
export function resultMsgId(r: Delivery, delivery?: number): string {
  return keyedMsgId(r.token, `${trialMsgId(r)}/result${delivery === undefined ? '' : `/d${delivery}`}`);
}

/** Message id of a started event: one per delivery of the trial message. */
export function startedMsgId(e: Delivery, delivery: number): string {
  return keyedMsgId(e.token, `${trialMsgId(e)}/started/d${delivery}`);
}

/** Message id of a refusal: one per refused trial message (its stream sequence). */
export function refusalMsgId(r: Delivery & Pick<RefusalEvent, 'seq'>): string {
  return keyedMsgId(r.token, `${trialMsgId(r)}/refused/s${r.seq}`);
}

/** Header of a trial message the orchestrator queued again after refusals: refusals before it. */
export const REFUSALS_HEADER = 'Hpo-Refusals';
