/**
 * The one way a ResultEvent is assembled (executors, the command runner, the pool, the transports): the
 * delivery fields of the spec, then the outcome, the optional fields only when they have a value (the
 * states a result ends a trial in, FINAL_STATES, live beside the schema in trial.ts).
 */
import { deliveryFields, type DeliveryFields, type ResultEvent } from './trial.js';

/** What a ResultEvent says beyond the delivery it answers (`final_epoch` is added by the NATS worker). */
export type ResultFields = Omit<ResultEvent, keyof DeliveryFields | 'final_epoch'>;

/** The result of the delivery `spec` (a trial spec, or an event about it) with `fields`. */
export function resultEvent(spec: DeliveryFields, fields: ResultFields): ResultEvent {
  return {
    ...deliveryFields(spec),
    state: fields.state,
    metrics: fields.metrics,
    epochs: fields.epochs,
    ...(fields.error === undefined ? {} : { error: fields.error }),
    worker: fields.worker,
    ...(fields.backend === undefined ? {} : { backend: fields.backend }),
    ...(fields.model === undefined ? {} : { model: fields.model }),
    started_at: fields.started_at,
    ended_at: fields.ended_at,
  };
}

/** A failed result for a trial that could not be run (refused, worker lost, gave up): no metrics, no epochs. */
export function failedResult(
  spec: DeliveryFields,
  worker: string,
  error: string,
  startedAt = Date.now(),
): ResultEvent {
  return resultEvent(spec, {
    state: 'failed',
    metrics: {},
    epochs: 0,
    error,
    worker,
    started_at: startedAt,
    ended_at: Date.now(),
  });
}
