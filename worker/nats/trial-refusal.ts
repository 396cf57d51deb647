/** A trial this worker refuses (its `accept` check said no): back to the queue; the orchestrator decides its end. */
import type { JsMsg } from '@nats-io/jetstream';
import { REFUSALS_HEADER, type RefusalEvent, refusalMsgId, trialRoute } from '../../shared/protocol/bus.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../../shared/protocol/index.js';
import { encodeMessage } from '../../shared/protocol/validate.js';
import { errorText } from '../../shared/nats/connection.js';
import { publishRetrying } from './publish-retrying.js';
import { type WorkerState, refreshSettings, sleep } from './worker-state.js';

/** Longest nak delay after a refusal. */
const MAX_REFUSE_DELAY_MS = 30_000;
export { REFUSALS_HEADER };

/**
 * A refused delivery. Only workers offering the trial's task pull it (task routes), so a refusal is a
 * worker-side problem (its data set differs, its task file changed): the trial goes back to the queue
 * for another worker, after a delay that grows with its refusals (2, 4, 8, 16, 30 s by default), so a
 * busy capable worker frees a slot meanwhile. Refusals must not use up max_deliver (that would fail a
 * trial only this worker cannot run): before the message's last delivery, and once the trial has been
 * refused `maxRefusals` times in all, the worker reports the refusal on the events stream (with the
 * count) and terms the message. The orchestrator, which alone may publish trials, queues it again as a
 * new message (fresh delivery count, the refusals so far in a header), or fails it once no live worker
 * offering its task is left that has not refused it. A worker never fails a trial it refused.
 */
export async function refuseTrial(
  state: WorkerState,
  msg: JsMsg,
  spec: TrialSpec,
  reason: string,
): Promise<void> {
  const delivery = msg.info.deliveryCount;
  const before = Number(msg.headers?.get(REFUSALS_HEADER) ?? '0');
  // Every delivery of this message counts as refused (conservative: an earlier one may have timed out).
  const refusals = (Number.isSafeInteger(before) && before > 0 ? before : 0) + delivery;
  const maxRefusals = state.options.maxRefusals ?? 10;
  await refreshSettings(state, msg); // the decision below depends on the current max_deliver
  // One line per reason and experiment (rate-limited), not one per trial.
  state.log.report(`refusing trials: ${reason}`, { experiment: spec.experiment });
  const base = state.options.refuseDelayMs ?? 2000;
  const delay = Math.min(base * 2 ** Math.min(refusals - 1, 16), MAX_REFUSE_DELAY_MS);
  // Stay off the trial's route a while: the server hands a message to the oldest waiting pull, which
  // would otherwise be this worker's again (a capable worker's pull may be newer).
  state.resting.set(trialRoute(spec), Date.now() + delay + Math.max(2000, delay));
  const max = state.settings.maxDeliver;
  if (refusals < maxRefusals && (max < 0 || delivery < max - 1)) {
    msg.nak(delay);
    return;
  }
  // The next delivery would be the last, or the trial was refused often: report the refusal; the
  // orchestrator queues the trial again or ends it.
  const event: RefusalEvent = {
    v: PROTOCOL_VERSION,
    experiment: spec.experiment,
    experiment_id: spec.experiment_id,
    trial_id: spec.trial_id,
    attempt: spec.attempt,
    token: spec.token ?? '',
    worker: state.name,
    reason,
    refusals,
    seq: msg.info.streamSequence,
  };
  try {
    // Wait first, holding the message (working() keeps it), so the refusals stay spread out.
    await sleep(delay);
    await publishRetrying(state.nc, () =>
      state.js.publish(state.names.eventsSubject(spec.experiment_id, 'refused'), encodeMessage(event), {
        msgID: refusalMsgId(event),
      }),
    );
  } catch (err) {
    state.log.report(`could not report the refusal of trial ${spec.trial_id} again: ${errorText(err)}`, {
      experiment: spec.experiment,
      trial: spec.trial_id,
      attempt: spec.attempt,
    });
    msg.nak(delay);
    return;
  }
  msg.term();
}
