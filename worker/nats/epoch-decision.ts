/**
 * After each epoch but the last: publish the epoch event and ask the orchestrator whether the trial goes
 * on (the last epoch travels in the result: trial-run.ts).
 */
import type { Msg } from '@nats-io/transport-node';
import { epochMsgId } from '../../shared/protocol/bus.js';
import type { Decision, EpochEvent } from '../../shared/protocol/index.js';
import { encodeMessage, parseMessage, validateDecisionReply } from '../../shared/protocol/validate.js';
import { errorText } from '../../shared/nats/connection.js';
import { publishRetrying } from './publish-retrying.js';
import { type WorkerState, reportInvalid } from './worker-state.js';

/**
 * Publishes the epoch event (pushed onto `publishes`, awaited before the result) and, with `ask`,
 * requests the decision: no answer in time, or an invalid one, means continue. Without it (the spec says
 * the orchestrator never stops trials) the answer is continue.
 */
export async function reportEpoch(
  state: WorkerState,
  e: EpochEvent,
  publishes: Promise<void>[],
  ask: boolean,
): Promise<Decision> {
  const body = encodeMessage(e);
  // Retried like a result (same message id: de-duplicated), so a server restart does not lose epochs.
  publishes.push(
    publishRetrying(state.nc, () =>
      state.js.publish(state.names.eventsSubject(e.experiment_id, 'epoch'), body, { msgID: epochMsgId(e) }),
    ).then(
      () => undefined,
      (err: unknown) => {
        state.counters.busErrors++;
        state.log.report(`could not publish an epoch event: ${errorText(err)}`, {
          experiment: e.experiment,
          trial: e.trial_id,
          attempt: e.attempt,
        });
      },
    ),
  );
  if (!ask) return 'continue';
  let reply: Msg;
  try {
    reply = await state.nc.request(state.names.decideSubject(e.experiment_id), body, {
      timeout: state.options.decisionTimeoutMs ?? 2000,
    });
  } catch {
    return 'continue'; // no orchestrator listening, or no answer in time
  }
  const parsed = parseMessage(reply.data, validateDecisionReply);
  if (!parsed.ok) {
    reportInvalid(state, `decision reply for trial ${e.trial_id}: ${parsed.error}`);
    return 'continue';
  }
  return parsed.value.decision;
}
