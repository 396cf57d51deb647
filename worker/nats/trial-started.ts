/** Tells the orchestrator a trial's delivery began running here (queued -> running, a sign of life). */
import { type StartedEvent, startedMsgId } from '../../shared/protocol/bus.js';
import { deliveryFields, type TrialSpec } from '../../shared/protocol/index.js';
import { encodeMessage } from '../../shared/protocol/validate.js';
import { errorText } from '../../shared/nats/connection.js';
import { publishRetrying } from './publish-retrying.js';
import type { WorkerState } from './worker-state.js';

/**
 * Publishes the trial's `started` event (retried like an epoch; de-duplicated per delivery). The trial
 * does not wait for it. A failure is only logged: the event is for display (queued -> running) and a
 * sign of life; one stored after the trial's result is ignored by the orchestrator.
 */
export function reportStarted(state: WorkerState, spec: TrialSpec, delivery: number): Promise<void> {
  const event: StartedEvent = { ...deliveryFields(spec), worker: state.name };
  const body = encodeMessage(event);
  return publishRetrying(state.nc, () =>
    state.js.publish(state.names.eventsSubject(spec.experiment_id, 'started'), body, {
      msgID: startedMsgId(event, delivery),
    }),
  ).then(
    () => undefined,
    (err: unknown) => {
      state.counters.busErrors++;
      state.log.report(`could not publish a started event: ${errorText(err)}`, {
        experiment: spec.experiment,
        trial: spec.trial_id,
        attempt: spec.attempt,
      });
    },
  );
}
