/**
 * What /readyz checks in each process (shared/metrics/readiness.ts): the orchestrator is ready when
 * connected to NATS (with --nats), its store takes writes and it holds the experiment's owner lease; a
 * worker when connected to NATS and its pool takes trials. Built here, where both sides meet: shared/
 * knows neither. docs/METRICS.md "Health".
 */
import type { BusLease } from '../orchestrator/transport/nats/index.js';
import { type ReadinessChecks, failed, passed } from '../shared/metrics/index.js';
import { type NatsConnection, natsConnectionCheck } from '../shared/nats/index.js';
import type { NatsWorker } from '../worker/nats/index.js';
import type { HeldLease } from './owner.js';

const secondsAgo = (at: number) => `${Math.round((Date.now() - at) / 1000)} s ago`;

export interface OrchestratorReadinessOptions {
  /** The owner lease in the store (its heartbeat is the store's write check). */
  lease: HeldLease;
  /** Over NATS: the connection and the lease on the bus. */
  bus?: { nc: NatsConnection; lease: BusLease };
  /** A lease not renewed for this long is no longer held (--owner-timeout). */
  staleMs: number;
}

/** `nats` (with a bus), `store`, `lease`. */
export function orchestratorReadiness(options: OrchestratorReadinessOptions): ReadinessChecks {
  const { lease, bus, staleMs } = options;
  const checks: ReadinessChecks = {
    store: () => {
      const w = lease.lastWrite();
      return w.ok
        ? passed(`last write ${secondsAgo(w.at)}`)
        : failed(`cannot write (${secondsAgo(w.at)}): ${w.error}`);
    },
    lease: () => {
      if (lease.lost() || bus?.lease.lost()) return failed('another driver took the owner lease over');
      if (bus && Date.now() - bus.lease.renewedAt() > staleMs) {
        return failed(`not renewed on the bus since ${secondsAgo(bus.lease.renewedAt())} (expired)`);
      }
      return passed(bus ? `renewed on the bus ${secondsAgo(bus.lease.renewedAt())}` : 'held in the store');
    },
  };
  return bus ? { nats: natsConnectionCheck(bus.nc), ...checks } : checks;
}

/** `nats`, `pool`. */
export function workerReadiness(nc: NatsConnection, worker: NatsWorker, slots: number): ReadinessChecks {
  return {
    nats: natsConnectionCheck(nc),
    pool: () => {
      switch (worker.phase) {
        case 'pulling':
          return passed(`${slots} slot(s), taking trials`);
        case 'draining':
          return failed('draining: takes no new trials');
        default:
          return failed('starting: waiting for the trial queue');
      }
    },
  };
}
