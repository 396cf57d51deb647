/**
 * The messages that exist only on the bus, as schemas: decision replies, cancels, refusals, started
 * events and worker heartbeats. The TypeScript types (bus.ts) and the validators (validate.ts) are both
 * derived from these.
 */
import { Type } from '@sinclair/typebox';
import { DECISIONS } from '../trial.js';
import { BACKEND_CHOICES, BACKEND_NAMES } from '../backend-names.js';
import {
  BoundedInteger,
  Flag,
  MAX_COUNT,
  MAX_HEARTBEAT_TASKS,
  MAX_SLOTS,
  Name,
  OneOf,
  TaskRoute,
  Text,
  Timestamp,
  Token,
} from './fields.js';
import { AN_OBJECT, DeliveryFieldsSchema } from './trial-messages.js';
import { Version } from './version.js';

const delivery = DeliveryFieldsSchema.properties;

/** The orchestrator's answer to a decision request (the request is the EpochEvent itself). */
export const DecisionReplySchema = Type.Object({ v: Version, decision: OneOf(DECISIONS) }, AN_OBJECT);

/**
 * Stops running trials of an experiment (all of them, or the one named). A worker only aborts them and
 * hands them back (nak): the orchestrator removes the messages itself, so a forged cancel loses nothing.
 */
export const CancelMessageSchema = Type.Object(
  {
    v: Version,
    experiment: delivery.experiment,
    experiment_id: delivery.experiment_id,
    trial_id: Type.Optional(Name),
  },
  AN_OBJECT,
);

/**
 * A worker that will not run a trial (e.g. its data set differs) before the message's last delivery:
 * published to the events stream (subject `<prefix>.events.<id>.refused`) before the worker terms the
 * message; the orchestrator queues the trial again as a new message carrying the refusal count.
 */
export const RefusalEventSchema = Type.Object(
  {
    ...delivery,
    token: Token,
    worker: Name,
    reason: Text,
    /** Refusals of this trial so far, this one included. */
    refusals: BoundedInteger(1, MAX_COUNT),
    /**
     * Stream sequence of the refused trial message: the orchestrator counts one refusal per queued
     * message (the one it queued last), so a repeated or replayed refusal never queues the trial twice.
     */
    seq: BoundedInteger(1),
  },
  AN_OBJECT,
);

/**
 * A worker began running the trial's delivery (it passed the accept check): published to the events
 * stream (subject `<prefix>.events.<id>.started`), so the orchestrator shows the trial `running` instead
 * of `queued` and counts it as a sign of life. Carries the delivery token like every event.
 */
export const StartedEventSchema = Type.Object({ ...delivery, worker: Name }, AN_OBJECT);

const backendsBound = `a list of at most ${BACKEND_NAMES.length} backend names`;
const tasksBound = `a list of at most ${MAX_HEARTBEAT_TASKS} names`;
const routesBound = `a list of at most ${MAX_HEARTBEAT_TASKS + 10} task routes`;

/** What a worker announces every few seconds (and on a ping). */
export const WorkerHeartbeatSchema = Type.Object(
  {
    /**
     * The protocol version the worker speaks. Heartbeats of any version are read (so `hpo workers`
     * shows an incompatible worker); only trials of its own version are run by a worker.
     */
    v: BoundedInteger(1, MAX_COUNT),
    /** Worker name (unique in the fleet by convention: host:pid unless given). */
    name: Name,
    /** Executor slots: trials it runs at once. */
    slots: BoundedInteger(0, MAX_SLOTS),
    /** Trials held right now (running, or being accepted / reported). */
    busy: BoundedInteger(0, MAX_SLOTS),
    /** Backend the worker was asked for (`--backend`: auto or a backend name). */
    backend: Type.Optional(OneOf(BACKEND_CHOICES)),
    /**
     * Backends its trials ran on, in order of first use (with `auto` the one picked per model family,
     * so possibly two); absent until a trial that uses a tfjs backend finished. At most one of each name.
     */
    backends_in_use: Type.Optional(
      Type.Array(OneOf(BACKEND_NAMES), {
        maxItems: BACKEND_NAMES.length,
        uniqueItems: true,
        expected: { type: backendsBound, maxItems: backendsBound, uniqueItems: 'distinct backend names' },
      }),
    ),
    /** Trials finished with a published result since the worker started. */
    trials_done: BoundedInteger(0),
    /** Epoch ms. */
    started_at: Timestamp,
    /** Epoch ms when this heartbeat was sent. */
    sent_at: Timestamp,
    /** True once drain() began: the worker takes no new trials. */
    draining: Flag,
    /** Invalid messages received so far. */
    invalid_messages: BoundedInteger(0),
    /** Tasks offered beyond the built-in ones, as `name@sha256-prefix` (at most 100). */
    tasks: Type.Optional(
      Type.Array(Name, {
        maxItems: MAX_HEARTBEAT_TASKS,
        expected: { type: tasksBound, maxItems: tasksBound },
      }),
    ),
    /** Routes (taskRoute) of every task it pulls trials of, built-in ones included (at most 110). */
    routes: Type.Optional(
      Type.Array(TaskRoute, {
        maxItems: MAX_HEARTBEAT_TASKS + 10,
        expected: { type: routesBound, maxItems: routesBound },
      }),
    ),
  },
  AN_OBJECT,
);
