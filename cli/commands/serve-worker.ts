/**
 * `hpo worker`'s life: set-up (task offers, GPUs, /metrics, NATS, the trial pool and the bus worker),
 * serving until a signal (the first drains, the second hands running trials back), then shutdown.
 */
import { hostname } from 'node:os';
import type { BackendChoice } from '../../worker/backends/backend.js';
import { createDataCheck, DEFAULT_DATA_SEEDS } from '../../worker/data/check.js';
import { UsageError } from '../../shared/errors.js';
import { childLogger, type Logger } from '../../shared/log/index.js';
import { connectNats, displayServers, type NatsConnection, NatsWorker } from '../../worker/nats/index.js';
import { chooseReplicas, clusterView } from '../../shared/nats/replicas.js';
import { TrialPool } from '../../worker/pool/index.js';
import type { TaskOffers } from '../../worker/tasks/task-offers.js';
import {
  natsWaitMs,
  type NatsFlags,
  natsSettings,
  type NatsConnectionSettings,
} from '../options/nats-options.js';
import {
  announceMetrics,
  type MetricsFlags,
  type OpenedMetrics,
  openMetrics,
} from '../options/metrics-options.js';
import { WorkerMetrics } from '../../worker/metrics/index.js';
import { type TaskFlags, taskOffersFromFlags } from '../options/task-options.js';
import { type GpuFlags, resolveAllGpus } from '../options/gpu-options.js';
import {
  answerMetricsOverIpc,
  answerReadinessOverIpc,
  GPU_CHILD_ENV,
  gpuSetup,
  superviseGpuWorkers,
} from '../gpu-workers/index.js';
import { DevicePlacement, GpuMetrics } from '../../worker/gpu/index.js';
import { createMetricsRegistry } from '../../shared/metrics/index.js';
import { workerReadiness } from '../readiness-checks.js';

export type WorkerFlags = NatsFlags &
  MetricsFlags &
  TaskFlags &
  GpuFlags & {
    concurrency?: number;
    backend: BackendChoice;
    name?: string;
    dataDir?: string;
    dataSeeds?: number[];
    natsWait?: number;
    replicas?: number;
    modelsDir?: string;
    maxModelMb?: number;
  };

export function requireNats(flags: NatsFlags): NatsConnectionSettings {
  const settings = natsSettings(flags);
  if (!settings) throw new UsageError('--nats: a NATS server URL is required (or set HPO_NATS_URL)');
  return settings;
}

/** A worker process once its offers and GPUs are known (supervised: a GPU process of a supervisor). */
interface WorkerSetup {
  flags: WorkerFlags;
  settings: NatsConnectionSettings;
  name: string;
  tasks: TaskOffers;
  /** Trial threads the GPU set-up decided (undefined: --concurrency). */
  threads?: number;
  /** Its metrics go to the supervisor over IPC, and it drains when the supervisor is gone. */
  supervised: boolean;
}

/** Opened by set-up, closed at shutdown. */
interface Serving {
  pool: TrialPool;
  worker: NatsWorker;
  log: Logger;
  metrics?: OpenedMetrics;
  gpuMetrics?: GpuMetrics;
}

/** Connects to NATS; when that fails, the /metrics server opened before closes. */
async function connectWorker(s: WorkerSetup, metrics: OpenedMetrics | undefined): Promise<NatsConnection> {
  try {
    return await connectNats({
      ...s.settings,
      name: `hpo-worker ${s.name}`,
      firstConnectRetryMs: natsWaitMs(s.flags),
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
  } catch (err) {
    await metrics?.server.close();
    throw err;
  }
}

/** The trial pool and the worker that feeds it from the bus. */
function createWorker(
  s: WorkerSetup,
  nc: NatsConnection,
  log: Logger,
): { pool: TrialPool; worker: NatsWorker } {
  const { flags, name, tasks } = s;
  const pool = new TrialPool({
    threads: s.threads ?? flags.concurrency,
    backend: flags.backend,
    dataDir: flags.dataDir,
    modelsDir: flags.modelsDir ?? process.env.HPO_MODELS_DIR ?? 'hpo-models',
    name,
    tasks,
    killGraceMs: flags.killGrace,
    logger: log.child({ component: 'trial-pool' }),
  });
  const dataCheck = createDataCheck({ dataDir: flags.dataDir, seeds: flags.dataSeeds });
  const worker = new NatsWorker(nc, pool, {
    name,
    backend: flags.backend,
    // Only a task this worker offers gets past here: nothing is imported or spawned for the rest.
    accept: (spec) => tasks.refusal(spec) ?? dataCheck(spec),
    tasks: () => tasks.labels(),
    // Trials come only from the queues of these tasks: never one this worker cannot run.
    offered: tasks.offered(),
    ...(flags.maxModelMb === undefined ? {} : { maxModelBytes: Math.floor(flags.maxModelMb * 2 ** 20) }),
    logger: childLogger({ component: 'nats-worker' }), // it adds the worker's name
    // Copies of the streams, when this worker is the first to create them (--replicas or by the server).
    streams: { replicas: chooseReplicas(clusterView(nc), s.flags.replicas).replicas },
  });
  return { pool, worker };
}

/** Metrics of the pool, the bus, device placement and GPUs; a supervised process answers over IPC. */
function watchWorker(s: WorkerSetup, serving: Serving): GpuMetrics | undefined {
  const { flags, name, supervised } = s;
  const { pool, worker, log, metrics } = serving;
  const registry = metrics?.registry ?? (supervised ? createMetricsRegistry() : undefined);
  if (supervised && registry) answerMetricsOverIpc(registry);
  pool.addObserver(new DevicePlacement({ logger: log, backend: flags.backend, registry, worker: name }));
  // The supervisor polls nvidia-smi for its processes.
  const gpuMetrics =
    registry && !supervised && flags.backend === 'tensorflow-gpu'
      ? new GpuMetrics({ registry, worker: name, logger: log.child({ component: 'gpu-metrics' }) })
      : undefined;
  if (registry) {
    new WorkerMetrics({
      registry,
      worker: name,
      pool,
      bus: () => {
        const st = worker.stats();
        return {
          invalidMessages: st.invalidMessages,
          redelivered: st.redelivered,
          refused: st.refused,
          busErrors: st.busErrors,
        };
      },
    });
  }
  return gpuMetrics;
}

/** /metrics, NATS, the pool and the worker, observed; /readyz not ready until the worker takes trials. */
async function setUp(s: WorkerSetup): Promise<Serving> {
  // First: a metrics port in use fails before connecting.
  const metrics = await openMetrics(s.flags);
  const nc = await connectWorker(s, metrics);
  // Every line of this process carries the worker's name.
  const log = childLogger({ worker: s.name });
  const { pool, worker } = createWorker(s, nc, log);
  const serving: Serving = { pool, worker, log, metrics };
  serving.gpuMetrics = watchWorker(s, serving);
  // It may wait for the orchestrator's queue before it takes trials.
  const readiness = workerReadiness(nc, worker, pool.slots);
  metrics?.server.setReadiness(readiness);
  if (s.supervised) answerReadinessOverIpc(readiness);
  announceMetrics(metrics);
  return serving;
}

function announce(s: WorkerSetup, serving: Serving): void {
  const { flags, name, tasks } = s;
  const { pool, log } = serving;
  const servers = displayServers(s.settings.servers);
  const offered = tasks.list().length ? `, tasks ${tasks.labels().join(' ')}` : '';
  log.info(
    { slots: pool.slots, backend: flags.backend, servers, tasks: tasks.labels() },
    `hpo worker ${name}: ${pool.slots} slot(s), backend ${flags.backend}, ` +
      `data seeds ${(flags.dataSeeds ?? DEFAULT_DATA_SEEDS).join(',')}, servers ${servers}${offered}`,
  );
}

/** Resolves once stopped: the first SIGTERM / SIGINT drains, the next hands running trials back now. */
function untilStopped(serving: Serving, supervised: boolean): Promise<void> {
  const { worker, log } = serving;
  let signals = 0;
  return new Promise<void>((resolve) => {
    const stop = () => {
      signals++;
      if (signals === 1) {
        log.info('draining: no new trials; running trials finish (signal again to hand them back now)');
        worker.drain().then(resolve, resolve);
      } else {
        log.info('handing running trials back to the queue');
        worker.close().then(resolve, resolve);
      }
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // A supervised process drains when its supervisor is gone.
    if (supervised) process.once('disconnect', stop);
  });
}

async function shutDown(s: WorkerSetup, serving: Serving): Promise<void> {
  const { worker, log, metrics } = serving;
  serving.gpuMetrics?.stop();
  log.info(
    { trialsDone: worker.stats().trialsDone },
    `hpo worker ${s.name}: stopped after ${worker.stats().trialsDone} trial(s)`,
  );
  await metrics?.server.close();
  if (s.supervised) {
    process.removeAllListeners('disconnect');
    process.disconnect?.(); // the IPC channel would keep this process alive
  }
}

/** `hpo worker`: serves trials until stopped; with --gpus supervises one worker process per GPU instead. */
export async function serveWorker(flags: WorkerFlags, setExitCode: (code: number) => void): Promise<void> {
  const settings = requireNats(flags);
  // The operator's task modules and programs first: a bad one is exit 2 before connecting.
  const tasks = await taskOffersFromFlags(flags);
  const name = flags.name ?? `${hostname()}:${process.pid}`;
  // tensorflow-gpu: memory growth, and with --gpus one process per GPU (this one supervising them).
  const gpus = flags.gpus === 'all' ? await resolveAllGpus() : flags.gpus;
  const gpu = gpuSetup({ ...flags, gpus }, name);
  if (gpu.supervise) {
    const log = childLogger({ worker: name, component: 'gpu-workers' });
    setExitCode(await superviseGpuWorkers({ plan: gpu.supervise, name, metrics: flags, logger: log }));
    return;
  }
  // A GPU worker process of a supervisor: its metrics go to the supervisor over IPC.
  const supervised = process.env[GPU_CHILD_ENV] === '1' && process.send !== undefined;
  const setup: WorkerSetup = { flags, settings, name, tasks, threads: gpu.threads, supervised };
  const serving = await setUp(setup);
  await serving.worker.start();
  announce(setup, serving);
  await untilStopped(serving, supervised);
  await shutDown(setup, serving);
  setExitCode(0);
}
