/**
 * A cancel from the orchestrator: abort the held trials of that experiment (or that one trial). They are
 * handed back, not acked (trial-run.ts): the orchestrator removes cancelled trials' messages itself.
 */
import type { Msg } from '@nats-io/transport-node';
import { parseMessage, validateCancel } from '../../shared/protocol/validate.js';
import { type WorkerState, reportInvalid } from './worker-state.js';

export function handleCancel(state: WorkerState, msg: Msg): void {
  const parsed = parseMessage(msg.data, validateCancel);
  if (!parsed.ok) return reportInvalid(state, `cancel on ${msg.subject}: ${parsed.error}`);
  const { experiment_id: id, trial_id } = parsed.value;
  if (msg.subject !== state.names.cancelSubject(id)) {
    return reportInvalid(
      state,
      `cancel on ${msg.subject}: experiment id ${id} does not belong on this subject`,
    );
  }
  for (const h of state.held.values()) {
    if (h.spec?.experiment_id !== id || (trial_id !== undefined && h.spec.trial_id !== trial_id)) continue;
    h.reason ??= 'cancel';
    h.controller.abort(new Error('cancelled'));
  }
}
