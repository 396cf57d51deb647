/**
 * Validation of every message received over the bus. Nothing that arrives from the network is trusted:
 * each message is described once as a schema (schema/, with every bound: lengths, patterns, ranges,
 * whole numbers, list and mapping sizes, enumerations, nesting depth), and each validator checks the
 * protocol version, then the schema, then what a schema cannot say (after-schema.ts). It returns either
 * a fresh object holding only the known fields or an error naming the first bad field
 * (e.g. `trial_id: expected a non-empty string, got 42`). Validators never throw.
 *
 * A message never names a path, a module or a command: no schema has such a field (a result's
 * model.path is where the worker saved, which the orchestrator never uses as an address).
 *
 * JSON cannot carry NaN or ±Infinity (JSON.stringify writes null), so a metric that is `null` on the
 * wire is read back as NaN: a diverged loss is a valid metric, not an invalid message.
 */
import type { CancelMessage, DecisionReply, RefusalEvent, StartedEvent, WorkerHeartbeat } from './bus.js';
import type { EpochEvent, ResultEvent, TrialSpec } from './trial.js';
import {
  CancelMessageSchema,
  DecisionReplySchema,
  EpochEventSchema,
  RefusalEventSchema,
  ResultEventSchema,
  StartedEventSchema,
  TrialSpecSchema,
  WorkerHeartbeatSchema,
  compileMessage,
  finalEpochNotLast,
  onTheBus,
  timestampOutsideWindow,
} from './schema/index.js';
import type { Validation } from './wire.js';

export { decodeJson, encodeMessage, MAX_MESSAGE_BYTES, parseMessage, type Validation } from './wire.js';
export {
  MAX_CLOCK_AHEAD_MS,
  MAX_COUNT,
  MAX_ENTRIES,
  MAX_ERROR_LENGTH,
  MAX_FILE_BYTES,
  MAX_HEARTBEAT_TASKS,
  MAX_NAME_LENGTH,
  MAX_PATH_LENGTH,
  MAX_SLOTS,
  MAX_TIMESTAMP_AGE_MS,
} from './schema/index.js';

/** The value, or the first problem found after the schema passed. */
function unless<T>(value: T, ...problems: (string | undefined)[]): Validation<T> {
  const error = problems.find((p) => p !== undefined);
  return error === undefined ? { ok: true, value } : { ok: false, error };
}

export const validateTrialSpec = compileMessage<TrialSpec>(onTheBus(TrialSpecSchema));

export const validateEpochEvent = compileMessage<EpochEvent>(onTheBus(EpochEventSchema));

/** A decision request is the EpochEvent of the epoch that just ended. */
export const validateDecisionRequest = validateEpochEvent;

const resultEvent = compileMessage<ResultEvent>(onTheBus(ResultEventSchema));

export function validateResultEvent(input: unknown, now = Date.now()): Validation<ResultEvent> {
  const checked = resultEvent(input);
  if (!checked.ok) return checked;
  const result = checked.value;
  return unless(
    result,
    timestampOutsideWindow(result, ['started_at', 'ended_at'], now),
    finalEpochNotLast(result),
  );
}

export const validateDecisionReply = compileMessage<DecisionReply>(DecisionReplySchema);

export const validateCancel = compileMessage<CancelMessage>(CancelMessageSchema);

export const validateRefusalEvent = compileMessage<RefusalEvent>(RefusalEventSchema);

export const validateStartedEvent = compileMessage<StartedEvent>(onTheBus(StartedEventSchema));

const workerHeartbeat = compileMessage<WorkerHeartbeat>(WorkerHeartbeatSchema);

/**
 * A heartbeat of any protocol version (v: an integer >= 1) is read: `hpo workers` shows which version
 * each worker speaks, so an incompatible one is visible instead of silently idle.
 */
export function validateWorkerHeartbeat(input: unknown, now = Date.now()): Validation<WorkerHeartbeat> {
  const checked = workerHeartbeat(input);
  if (!checked.ok) return checked;
  return unless(checked.value, timestampOutsideWindow(checked.value, ['started_at', 'sent_at'], now));
}
