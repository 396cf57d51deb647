/**
 * The messages about one trial, as schemas: the trial spec the orchestrator queues, and the epoch and
 * result events a worker sends back. The TypeScript types (trial.ts) and the validators (validate.ts)
 * are both derived from these.
 */
import { type TObject, type TProperties, Type } from '@sinclair/typebox';
import { FINAL_STATES, MAX_TRIAL_EPOCHS } from '../trial.js';
import { MODEL_FILES } from '../model-transfer.js';
import {
  Attempt,
  BoundedInteger,
  BusId,
  EpochNumber,
  FilePath,
  Flag,
  MAX_FILE_BYTES,
  Metrics,
  Name,
  OneOf,
  Params,
  Seed,
  Sha256,
  Text,
  Timestamp,
  Token,
} from './fields.js';
import { Version } from './version.js';

/** A message (or a part of one) is a JSON object; fields it does not know are ignored, never copied. */
export const AN_OBJECT = { expected: 'an object' } as const;

/** The fields naming one delivery of a trial, which every event about it carries back. */
export const DeliveryFieldsSchema = Type.Object(
  {
    v: Version,
    /** The experiment's name: for display and records only, never an address. */
    experiment: Name,
    /**
     * The experiment's random id (a bus token, see isBusId): subjects, consumers, message ids and a
     * worker's model folder are derived from it, so two experiments of the same name never mix.
     */
    experiment_id: BusId,
    /**
     * Minted by the orchestrator for this dispatch (one trial attempt): every epoch, result and refusal
     * of the delivery carries it back, and nothing without the current one is accepted. Required on the
     * bus (onTheBus); in-process dispatches may leave it out.
     */
    token: Type.Optional(Token),
    /** Unique within the experiment; stable across resumes and redeliveries. */
    trial_id: Name,
    /** 1 for the first run; each re-run of an interrupted trial gets the next number. */
    attempt: Attempt,
  },
  AN_OBJECT,
);

const delivery = DeliveryFieldsSchema.properties;

/** A message as it travels on the bus: the delivery token is required there. */
export function onTheBus(schema: TObject): TObject {
  const properties: TProperties = { ...schema.properties, token: Token };
  return Type.Object(properties, AN_OBJECT);
}

/** A trial as dispatched to a worker. */
export const TrialSpecSchema = Type.Object(
  {
    ...delivery,
    /** Task name (never code named by a message): a built-in task, or a task a worker's operator offers. */
    task: Name,
    /**
     * sha256 (64 lowercase hex) of the task module or command program the trial needs, for tasks that
     * are not built in. A worker runs the trial only when it offers exactly this name and content.
     */
    task_sha256: Type.Optional(Sha256),
    params: Params,
    /** Seeds everything random in the trial (weights, batch order, synthetic noise). */
    seed: Seed,
    /** The data set the trial trains on (multi-digit-mnist): generated from `seed`, checked against `sha256`. */
    data: Type.Optional(Type.Object({ seed: Seed, sha256: Type.Optional(Name) }, AN_OBJECT)),
    /**
     * Save the trained model (tfjs files). The worker chooses the folder itself: under its own models
     * root, `<root>/<experiment_id>/<trial_id>` (a message never names a path). Absent or false: do not save.
     */
    save_model: Type.Optional(Flag),
    /**
     * false: the orchestrator's scheduler never stops a trial (FIFO), so the worker publishes its epochs
     * without asking for a decision after each. Absent or true: it asks.
     */
    decisions: Type.Optional(Flag),
  },
  AN_OBJECT,
);

/** Metrics after one epoch, sent while a trial runs (and, over NATS, the request for a decision). */
export const EpochEventSchema = Type.Object(
  { ...delivery, epoch: EpochNumber, metrics: Metrics, worker: Name },
  AN_OBJECT,
);

/** One uploaded file of a saved model, as the result reports it. */
export const ModelFileDigestSchema = Type.Object(
  {
    /** One of MODEL_FILES. */
    name: OneOf(MODEL_FILES),
    /** Bytes. */
    size: BoundedInteger(0, MAX_FILE_BYTES),
    sha256: Sha256,
  },
  AN_OBJECT,
);

const filesBound = `an array of at most ${MODEL_FILES.length} files`;

/**
 * The trained model, when the spec asked for it. `path`: where the worker saved it on its own machine
 * (`<its models root>/<experiment_id>/<trial_id>`; the in-process pool's is the orchestrator's own).
 * Over NATS the worker also uploads the files to the object store and lists them in `files` (what the
 * orchestrator checks its download against; it never uses `path` then), or says in `not_sent` why it
 * did not (e.g. over the size limit).
 */
const ResultModel = Type.Object(
  {
    path: FilePath,
    files: Type.Optional(
      Type.Array(ModelFileDigestSchema, {
        maxItems: MODEL_FILES.length,
        expected: { type: filesBound, maxItems: filesBound },
      }),
    ),
    not_sent: Type.Optional(Text),
  },
  AN_OBJECT,
);

/**
 * The trial's last epoch (its `epochs` parameter reached), carried by the result instead of an epoch
 * event: no decision is asked after it, and one message less travels. The orchestrator records it (and
 * shows it to the scheduler) before the result. Earlier epochs travel as epoch events.
 */
export const FinalEpochSchema = Type.Object({ epoch: EpochNumber, metrics: Metrics }, AN_OBJECT);

export const ResultEventSchema = Type.Object(
  {
    ...delivery,
    /** How the trial ended. `stopped`: a scheduler said stop (a normal, final outcome). */
    state: OneOf(FINAL_STATES),
    /** Final metrics: the last epoch's validation metrics plus test_* where the task reports them. */
    metrics: Metrics,
    epochs: BoundedInteger(0, MAX_TRIAL_EPOCHS),
    /** Present when state is failed. */
    error: Type.Optional(Text),
    worker: Name,
    backend: Type.Optional(Name),
    model: Type.Optional(ResultModel),
    started_at: Timestamp,
    ended_at: Timestamp,
    /** Its epoch is the result's `epochs` (a check after the schema: validate.ts). */
    final_epoch: Type.Optional(FinalEpochSchema),
  },
  AN_OBJECT,
);
