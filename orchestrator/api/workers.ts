/** `hpo workers`: who is serving the bus right now, from the workers' heartbeats. */
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_SUBJECT_PREFIX, type WorkerHeartbeat, busNames } from '../../shared/protocol/bus.js';
import { parseMessage, validateWorkerHeartbeat } from '../../shared/protocol/validate.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The workers on the bus right now: pings them and collects their heartbeats for `timeoutMs` (default
 * 1000), newest per name, sorted by name. Invalid heartbeats are skipped.
 */
export async function listWorkers(
  nc: NatsConnection,
  options: { timeoutMs?: number; prefix?: string } = {},
): Promise<WorkerHeartbeat[]> {
  const names = busNames(options.prefix ?? DEFAULT_SUBJECT_PREFIX);
  const found = new Map<string, WorkerHeartbeat>();
  const sub = nc.subscribe(names.heartbeatSubject, {
    callback: (err, msg) => {
      if (err) return;
      const hb = parseMessage(msg.data, validateWorkerHeartbeat);
      if (!hb.ok) return;
      const prev = found.get(hb.value.name);
      if (!prev || prev.sent_at <= hb.value.sent_at) found.set(hb.value.name, hb.value);
    },
  });
  try {
    await nc.flush();
    nc.publish(names.pingSubject);
    await sleep(options.timeoutMs ?? 1000);
  } finally {
    sub.unsubscribe();
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
