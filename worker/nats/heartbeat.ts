/** The worker's heartbeat: who it is, its slots and load, whether it drains. */
import type { WorkerHeartbeat } from '../../shared/protocol/bus.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { encodeMessage } from '../../shared/protocol/validate.js';
import type { WorkerState } from './worker-state.js';

export function publishHeartbeat(state: WorkerState, startedAt: number): void {
  if (state.nc.isClosed()) return;
  const hb: WorkerHeartbeat = {
    v: PROTOCOL_VERSION,
    name: state.name,
    slots: state.executor.slots,
    busy: state.held.size,
    ...(state.options.backend === undefined ? {} : { backend: state.options.backend }),
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
