/**
 * What travels between the orchestrator and the workers. Plain JSON-able objects; every message carries
 * the protocol version `v` so a receiver can reject what it does not understand.
 */
import type { ModelFileDigest } from './model-transfer.js';

export const PROTOCOL_VERSION = 5;

/**
 * A parameter's value: a scalar, or (as W&B sweep files allow) null, a list or a mapping of values.
 * Lists and mappings travel as JSON; at most MAX_VALUE_DEPTH levels deep.
 */
export type ParamValue = number | string | boolean | null | ParamValue[] | { [key: string]: ParamValue };
/** Deepest nesting of lists / mappings inside one parameter value. */
export const MAX_VALUE_DEPTH = 16;
/** Sampled hyperparameters of one trial, by parameter name. */
export type TrialParams = Record<string, ParamValue>;

/** A trial as dispatched to a worker. */
export interface TrialSpec {
  v: typeof PROTOCOL_VERSION;
  /** The experiment's name: for display and records only, never an address. */
  experiment: string;
  /**
   * The experiment's random id (a bus token, see isBusId): subjects, consumers, message ids and a
   * worker's model folder are derived from it, so two experiments of the same name never mix.
   */
  experiment_id: string;
  /**
   * Minted by the orchestrator for this dispatch (one trial attempt): every epoch, result and refusal
   * of the delivery carries it back, and nothing without the current one is accepted. Required on the
   * bus; in-process dispatches may leave it out.
   */
  token?: string;
  /** Unique within the experiment; stable across resumes and redeliveries. */
  trial_id: string;
  /** 1 for the first run; each re-run of an interrupted trial gets the next number. */
  attempt: number;
  /** Task name (never code named by a message): a built-in task, or a task a worker's operator offers. */
  task: string;
  /**
   * sha256 (64 lowercase hex) of the task module or command program the trial needs, for tasks that are
   * not built in. A worker runs the trial only when it offers exactly this name and content.
   */
  task_sha256?: string;
  params: TrialParams;
  /** Seeds everything random in the trial (weights, batch order, synthetic noise). */
  seed: number;
  /** The data set the trial trains on (multi-digit-mnist): generated from `seed`, checked against `sha256`. */
  data?: { seed: number; sha256?: string };
  /**
   * Save the trained model (tfjs files). The worker chooses the folder itself: under its own models
   * root, `<root>/<experiment_id>/<trial_id>` (a message never names a path). Absent or false: do not save.
   */
  save_model?: boolean;
  /**
   * false: the orchestrator's scheduler never stops a trial (FIFO), so the worker publishes its epochs
   * without asking for a decision after each. Absent or true: it asks.
   */
  decisions?: boolean;
}

/** The fields naming one delivery of a trial, which every event about it carries back. */
export interface DeliveryFields {
  v: typeof PROTOCOL_VERSION;
  experiment: string;
  experiment_id: string;
  /** The delivery token of the trial spec (absent in-process). */
  token?: string;
  trial_id: string;
  attempt: number;
}

/**
 * The delivery fields of events about `spec` (a trial spec, or an event about it), alone: its token
 * only when it has one.
 */
export function deliveryFields(spec: DeliveryFields): DeliveryFields {
  return {
    v: PROTOCOL_VERSION,
    experiment: spec.experiment,
    experiment_id: spec.experiment_id,
    ...(spec.token === undefined ? {} : { token: spec.token }),
    trial_id: spec.trial_id,
    attempt: spec.attempt,
  };
}

/** Metrics after one epoch, sent while a trial runs. */
export interface EpochEvent extends DeliveryFields {
  epoch: number;
  metrics: Record<string, number>;
  worker: string;
}

/** How a trial ended. `stopped`: a scheduler said stop (a normal, final outcome). */
export type FinalState = 'completed' | 'stopped' | 'failed';

export interface ResultEvent extends DeliveryFields {
  state: FinalState;
  /** Final metrics: the last epoch's validation metrics plus test_* where the task reports them. */
  metrics: Record<string, number>;
  epochs: number;
  /** Present when state is failed. */
  error?: string;
  worker: string;
  backend?: string;
  /**
   * The trained model, when the spec asked for it. `path`: where the worker saved it on its own machine
   * (`<its models root>/<experiment_id>/<trial_id>`; the in-process pool's is the orchestrator's own).
   * Over NATS the worker also uploads the files to the object store and lists them in `files` (what the
   * orchestrator checks its download against; it never uses `path` then), or says in `not_sent` why it
   * did not (e.g. over the size limit).
   */
  model?: { path: string; files?: ModelFileDigest[]; not_sent?: string };
  started_at: number;
  ended_at: number;
  /**
   * The trial's last epoch (its `epochs` parameter reached), carried here instead of in an epoch event:
   * no decision is asked after it, and one message less travels. The orchestrator records it (and shows
   * it to the scheduler) before the result. Earlier epochs travel as epoch events.
   */
  final_epoch?: FinalEpoch;
}

/** An epoch carried by a result: see ResultEvent.final_epoch. */
export interface FinalEpoch {
  epoch: number;
  metrics: Record<string, number>;
}

/** A scheduler's answer to an epoch report. */
export type Decision = 'continue' | 'stop';

/** Epochs a trial reports at most, whatever its parameters say (bounds every per-trial history). */
export const MAX_TRIAL_EPOCHS = 10_000;

/**
 * The highest epoch number a trial may report: its `epochs` parameter when that is a positive integer
 * (every task reads it), capped by MAX_TRIAL_EPOCHS.
 */
export function epochLimit(params: TrialParams): number {
  const e = params.epochs;
  return typeof e === 'number' && Number.isSafeInteger(e) && e >= 1
    ? Math.min(e, MAX_TRIAL_EPOCHS)
    : MAX_TRIAL_EPOCHS;
}
