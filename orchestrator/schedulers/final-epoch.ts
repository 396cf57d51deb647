/**
 * A trial that reaches its last epoch completes, whatever a scheduler answers there: a `stop` at that
 * epoch would only race the trial's own end (a command task killed while it writes its files, a task
 * module that records `stopped` after all its epochs). The scheduler still sees the epoch (ASHA records
 * it at its rung); only the answer sent to the worker becomes `continue`.
 */
import { type Decision, epochLimit, type TrialParams } from '../../shared/protocol/index.js';

/** `decision`, except `continue` at the trial's last epoch (its `epochs` parameter). */
export function finalEpochDecision(decision: Decision, epoch: number, params: TrialParams): Decision {
  return decision === 'stop' && isLastEpoch(epoch, params) ? 'continue' : decision;
}

/** true at or past the trial's last epoch (its `epochs` parameter; without one, MAX_TRIAL_EPOCHS). */
export function isLastEpoch(epoch: number, params: TrialParams): boolean {
  return epoch >= epochLimit(params);
}
