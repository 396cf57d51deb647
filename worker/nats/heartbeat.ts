/** The worker's heartbeat: who it is, its slots and load, whether it drains. */
import type { WorkerHeartbeat } from '../../shared/protocol/bus.js';
import { BACKEND_NAMES, type BackendName } from '../../shared/protocol/backend-names.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { encodeMessage } from '../../shared/protocol/validate.js';
import type { WorkerState } from './worker-state.js';

/**
 * Notes the backend a finished trial reported it ran on, for the heartbeat. A backend asked for by name
 * is the one in use (it never falls back; tfjs names both TensorFlow packages `tensorflow`); with `auto`,
 * the reported one. A trial that reports none (a task without tfjs) or a name outside hpo's backends (a
 * user task's) adds nothing.
 */
export function noteBackendInUse(state: WorkerState, reported: string | undefined): void {
  if (reported === undefined) return;
  const asked = state.options.backend;
  const used = asked !== undefined && asked !== 'auto' ? asked : reported;
  if (
    (BACKEND_NAMES as readonly string[]).includes(used) &&
    !state.backendsInUse.includes(used as BackendName)
  ) {
    state.backendsInUse.push(used as BackendName);
  }
}

export function publishHeartbeat(state: WorkerState, startedAt: number): void {
  if (state.nc.isClosed()) return;
  const hb: WorkerHeartbeat = {
    v: PROTOCOL_VERSION,
    name: state.name,
    slots: state.executor.slots,
    busy: state.held.size,
    ...(state.options.backend === undefined ? {} : { backend: state.options.backend }),
    ...(state.backendsInUse.length === 0 ? {} : { backends_in_use: [...state.backendsInUse] }),
    trials_done: state.counters.trialsDone,
    started_at: startedAt,
    sent_at: Date.now(),
    draining: state.stopping,
    invalid_messages: state.counters.invalidMessages,
  };
  const tasks = state.options.tasks?.();
  if (tasks && tasks.length > 0) hb.tasks = tasks.slice(0, 100);
  if (state.routes.length > 0) hb.routes = state.routes.slice(0, 110);
  try {
    state.nc.publish(state.names.heartbeatSubject, encodeMessage(hb));
  } catch {
    // Closing.
  }
}
