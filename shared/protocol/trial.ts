/**
 * What travels between the orchestrator and the workers. Plain JSON-able objects; every message carries
 * the protocol version `v` so a receiver can reject what it does not understand.
 */
import type { Static } from '@sinclair/typebox';
import type {
  DeliveryFieldsSchema,
  EpochEventSchema,
  FinalEpochSchema,
  ResultEventSchema,
  TrialSpecSchema,
} from './schema/trial-messages.js';

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

/**
 * The messages about a trial, derived from their schemas (schema/trial-messages.ts, where each field is
 * described): one description gives both these types and the bus validators (validate.ts).
 */
export type TrialSpec = Static<typeof TrialSpecSchema>;
/** The fields naming one delivery of a trial, which every event about it carries back. */
export type DeliveryFields = Static<typeof DeliveryFieldsSchema>;

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
export type EpochEvent = Static<typeof EpochEventSchema>;

/** How a trial ended. `stopped`: a scheduler said stop (a normal, final outcome). */
export const FINAL_STATES = ['completed', 'stopped', 'failed'] as const;
export type FinalState = (typeof FINAL_STATES)[number];

/** A trial's end: its final metrics and state, and, when the spec asked, its model and last epoch. */
export type ResultEvent = Static<typeof ResultEventSchema>;

/** An epoch carried by a result: see ResultEvent.final_epoch. */
export type FinalEpoch = Static<typeof FinalEpochSchema>;

/** A scheduler's answer to an epoch report. */
export const DECISIONS = ['continue', 'stop'] as const;
export type Decision = (typeof DECISIONS)[number];

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
