/** A trial this worker refuses (its `accept` check said no): back to the queue, or failed at last. */
import type { JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { trialMsgId } from '../../shared/protocol/bus.js';
import type { TrialSpec } from '../../shared/protocol/index.js';
import { encodeMessage } from '../../shared/protocol/validate.js';
import { errorText, failedResult } from '../../shared/nats/connection.js';
import { finishTrial, publishRetrying } from './publish-retrying.js';
import { type WorkerState, refreshSettings, sleep } from './worker-state.js';

/** Longest nak delay after a refusal. */
const MAX_REFUSE_DELAY_MS = 30_000;
/** Header of a re-queued refused trial: refusals before this message. */
export const REFUSALS_HEADER = 'Hpo-Refusals';

/**
 * A refused delivery. The trial goes back to the queue for another worker, after a delay that grows
 * with its refusals (2, 4, 8, 16, 30 s by default), so a busy capable worker frees a slot meanwhile.
 * Refusals must not use up max_deliver (that would fail a trial only this worker cannot run): before
 * the message's last delivery it is published again as a new message (fresh delivery count, the
 * refusals so far in a header; its message id makes a retried publish a duplicate) and the old one
 * is termed. After `maxRefusals` refusals in all, the trial ends failed with the reason.
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
  await refreshSettings(state); // the decision below depends on the current max_deliver
  const error = `refused by worker ${state.name}: ${reason}`;
  if (refusals >= maxRefusals) {
    const why = `${error} (refused ${refusals} times in all: no worker accepted the trial)`;
    await finishTrial(state, msg, failedResult(spec, state.name, why), 'term');
    return;
  }
  // One line per reason and experiment (rate-limited), not one per trial.
  state.log.report(`refusing trials: ${reason}`, { experiment: spec.experiment });
  const base = state.options.refuseDelayMs ?? 2000;
  const delay = Math.min(base * 2 ** Math.min(refusals - 1, 16), MAX_REFUSE_DELAY_MS);
  const max = state.settings.maxDeliver;
  if (max < 0 || delivery < max - 1) {
    msg.nak(delay);
    return;
  }
  // The next delivery would be the last: queue the trial again as a new message instead.
  const h = headers();
  h.set(REFUSALS_HEADER, String(refusals));
  try {
    // Wait first, holding the message (working() keeps it), so the refusals stay spread out.
    await sleep(delay);
    await publishRetrying(state.nc, () =>
      state.js.publish(msg.subject, encodeMessage(spec), {
        msgID: `${trialMsgId(spec)}/requeued/${refusals}`,
        headers: h,
      }),
    );
  } catch (err) {
    state.log.report(`could not queue refused trial ${spec.trial_id} again: ${errorText(err)}`, {
      experiment: spec.experiment,
      trial: spec.trial_id,
      attempt: spec.attempt,
    });
    msg.nak(delay);
    return;
  }
  msg.term();
}
