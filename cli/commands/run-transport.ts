/** Where an experiment's trials run: the local thread pool, or workers over NATS (with the owner lease on the bus). */
import { TrialPool } from '../../worker/pool/index.js';
import type { TaskOffers } from '../../worker/tasks/task-offers.js';
import { taskRoute, type WorkerHeartbeat } from '../../shared/protocol/bus.js';
import type { SearchSpace } from '../../orchestrator/search-space/types.js';
import {
  type ExperimentRecord,
  LEASE_STALE_MS,
  type OwnerClaim,
  type Store,
} from '../../orchestrator/store/index.js';
import { InProcessTransport, type Transport } from '../../orchestrator/transport/index.js';
import { acquireBusLease, type BusLease, NatsTransport } from '../../orchestrator/transport/nats/index.js';
import { connectNats, displayServers, type NatsConnection } from '../../worker/nats/index.js';
import { chooseReplicas, clusterView } from '../../shared/nats/replicas.js';
import { startQueryResponder } from '../../orchestrator/api/index.js';
import { type NatsConnectionSettings, natsSettings, natsWaitMs } from '../options/nats-options.js';
import { type OpenedMetrics } from '../options/metrics-options.js';
import { WorkerMetrics } from '../../worker/metrics/index.js';
import { type RunFlags, maxModelBytes, mebibytes, modelsRoot } from './run-options.js';
import { ModelFetcher, type RemoteModels } from '../../orchestrator/artifacts/index.js';

export interface OpenedTransport {
  transport: Transport;
  /** Where trials run, for the start line. */
  where: string;
  stopResponder: () => void;
  /** Invalid bus messages seen by the transport (for metrics). */
  invalidMessages?: () => number;
  /** Over NATS, when the experiment saves models: the object store they come through. */
  remoteModels?: RemoteModels;
  /** Releases the owner lease on the bus (before the connection closes). */
  releaseLease?: () => Promise<void>;
  /** Over NATS: the connection and the owner lease on the bus (for readiness). */
  bus?: { nc: NatsConnection; lease: BusLease };
}

/** The local thread pool; the trials run in this process, so it exports the worker metrics too. */
function openPool(flags: RunFlags, metrics: OpenedMetrics | undefined, tasks: TaskOffers): OpenedTransport {
  const pool = new TrialPool({
    threads: flags.workers,
    backend: flags.backend,
    dataDir: flags.dataDir,
    modelsDir: modelsRoot(flags),
    tasks,
  });
  if (metrics) new WorkerMetrics({ registry: metrics.registry, worker: pool.name, pool });
  return {
    transport: new InProcessTransport(pool),
    where: `${pool.slots} local trial thread(s)`,
    stopResponder: () => {},
  };
}

/** What the NATS steps share. */
interface BusRun {
  store: Store;
  name: string;
  exp: ExperimentRecord;
  flags: RunFlags;
  nats: NatsConnectionSettings;
  nc: NatsConnection;
}

/**
 * The owner lease on the bus (two databases, or machines, driving one experiment on one bus: the second
 * is refused here) and the JetStream replicas chosen for what this run creates. Closes the connection
 * when it fails.
 */
async function leaseOnBus(run: BusRun, claim: OwnerClaim): Promise<{ busLease: BusLease; replicas: number }> {
  const { nc, name, flags } = run;
  try {
    const chosen = chooseReplicas(clusterView(nc), flags.replicas);
    process.stderr.write(`hpo: JetStream replicas ${chosen.why}\n`);
    const busLease = await acquireBusLease(nc, name, claim, {
      experimentId: run.exp.bus_id,
      staleMs: flags.ownerTimeout ?? LEASE_STALE_MS,
      host: claim.host,
      force: flags.force,
      where: displayServers(run.nats.servers),
      replicas: chosen.replicas,
      onLost: (holder) => {
        process.stderr.write(
          `hpo: lost the owner lease of experiment '${name}' on the bus` +
            (holder ? ` to pid ${holder.pid} on ${holder.host}` : '') +
            ': stopping at once (the new driver carries on)\n',
        );
        process.exit(1);
      },
    });
    return { busLease, replicas: chosen.replicas };
  } catch (err) {
    await nc.close();
    throw err;
  }
}

/**
 * Models saved by workers come back through the object store (created here: workers may not), when the
 * experiment saves models. Releases the lease and closes the connection when it fails.
 */
async function openRemoteModels(
  run: BusRun,
  busLease: BusLease,
  replicas: number,
): Promise<RemoteModels | undefined> {
  const { flags } = run;
  try {
    if (flags.saveModels.kind === 'none') return undefined;
    return await ModelFetcher.open(run.nc, {
      experimentId: run.exp.bus_id,
      root: modelsRoot(flags),
      maxBytes: maxModelBytes(flags),
      bucketMaxBytes: mebibytes(flags.modelsBucketMb),
      replicas,
    });
  } catch (err) {
    await busLease.release().catch(() => undefined);
    await run.nc.close();
    throw err;
  }
}

/** Workers over NATS: the owner lease on the bus, the models' object store, the transport and its responder. */
async function openBus(run: BusRun, claim: OwnerClaim): Promise<OpenedTransport> {
  const { store, name, exp, flags, nats, nc } = run;
  const { busLease, replicas } = await leaseOnBus(run, claim);
  const remoteModels = await openRemoteModels(run, busLease, replicas);
  const replies = await connectReplies(nats, nc, name);
  const transport = new NatsTransport(nc, {
    responder: replies,
    experiments: [{ name, id: exp.bus_id, secret: exp.bus_secret }],
    maxInFlight: flags.maxInFlight,
    ...(exp.space.method === 'bayes' ? { fleet: { countsWorker: offersTaskOf(exp.space) } } : {}),
    ackWaitMs: flags.ackWait,
    maxDeliver: flags.maxDeliver,
    streams: { eventsMaxBytes: mebibytes(flags.eventsMaxMb), replicas, updateReplicas: true },
    ...(flags.trialTimeout === undefined ? {} : { trialTimeoutMs: flags.trialTimeout * 1000 }),
  });
  return {
    transport,
    where: `workers on NATS ${displayServers(nats.servers)}`,
    stopResponder: startQueryResponder(replies, store, name, {
      onInvalid: () => transport.countInvalid(),
    }),
    invalidMessages: () => transport.invalidMessages,
    releaseLease: () => busLease.release(),
    remoteModels,
    bus: { nc, lease: busLease },
  };
}

/** NATS when a server is named (flags or HPO_NATS_URL), else the local thread pool. */
export async function openTransport(
  store: Store,
  name: string,
  flags: RunFlags,
  metrics: OpenedMetrics | undefined,
  tasks: TaskOffers,
  claim: OwnerClaim,
): Promise<OpenedTransport> {
  const nats = natsSettings(flags);
  if (!nats) return openPool(flags, metrics, tasks);
  const nc = await connectNats({
    ...nats,
    name: `hpo orchestrator ${name}`,
    firstConnectRetryMs: natsWaitMs(flags),
    log: (line) => process.stderr.write(`hpo: ${line}\n`),
  });
  const exp = (await store.getExperiment(name))!;
  return openBus({ store, name, exp, flags, nats, nc }, claim);
}

/**
 * Whether a worker's heartbeat offers the experiment's task: the task's route is among the routes it
 * pulls from (the same test as the transport's task coverage, task-coverage.ts).
 */
function offersTaskOf(space: SearchSpace): (hb: WorkerHeartbeat) => boolean {
  const route = taskRoute(space.task, space.task_source?.sha256);
  return (hb) => hb.routes?.includes(route) ?? false;
}

/**
 * The connection that answers status questions and decision requests. With a user name, it logs in as
 * `<user>-replies` (same password): deploy/nats/nats-server.conf lets that user publish on inboxes only,
 * so the server itself refuses an answer whose reply subject names a stream, a KV key or a JetStream
 * API call. A server without that user: the main connection answers (inboxes only, checked here).
 */
async function connectReplies(
  nats: NatsConnectionSettings,
  nc: NatsConnection,
  name: string,
): Promise<NatsConnection> {
  if (nats.user === undefined) return nc;
  const user = `${nats.user}-replies`;
  try {
    return await connectNats({ ...nats, user, name: `hpo orchestrator ${name} replies` });
  } catch (err) {
    process.stderr.write(
      `hpo: warning: cannot log in to NATS as '${user}' (${err instanceof Error ? err.message : String(err)}): ` +
        `answering status questions and decision requests as '${nats.user}', whose rights the server does not ` +
        `narrow to inboxes (docs/NATS.md "Roles")\n`,
    );
    return nc;
  }
}
