/** `hpo worker` (serve trials from NATS on this machine) and `hpo workers` (list the live fleet). */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { BackendChoice } from '../../worker/backends/backend.js';
import { createDataCheck, DEFAULT_DATA_SEEDS } from '../../worker/data/check.js';
import { UsageError } from '../../shared/errors.js';
import { childLogger } from '../../shared/log/index.js';
import { connectNats, displayServers, NatsWorker } from '../../worker/nats/index.js';
import { chooseReplicas, clusterView } from '../../shared/nats/replicas.js';
import { listWorkers } from '../../orchestrator/api/index.js';
import { TrialPool } from '../../worker/pool/index.js';
import {
  addNatsOptions,
  addNatsWaitOption,
  addReplicasOption,
  natsWaitMs,
  type NatsFlags,
  natsSettings,
  type NatsConnectionSettings,
} from '../options/nats-options.js';
import { positiveInt, positiveNumber, seedList } from '../options/option-values.js';
import { DEFAULT_MAX_MODEL_BYTES } from '../../shared/protocol/model-transfer.js';
import { backendOption } from '../options/backend-option.js';
import { dataDirOption } from '../options/data-options.js';
import { jsonOption } from '../options/output-options.js';
import {
  addMetricsOptions,
  announceMetrics,
  type MetricsFlags,
  openMetrics,
} from '../options/metrics-options.js';
import { WorkerMetrics } from '../../worker/metrics/index.js';
import { plainTable } from '../plain-table.js';
import { addTaskOptions, type TaskFlags, taskOffersFromFlags } from '../options/task-options.js';
import { type GpuFlags, gpuListOrAll, resolveAllGpus } from '../options/gpu-options.js';
import {
  answerMetricsOverIpc,
  answerReadinessOverIpc,
  GPU_CHILD_ENV,
  gpuSetup,
  superviseGpuWorkers,
} from '../gpu-workers/index.js';
import { DevicePlacement, GpuMetrics } from '../../worker/gpu/index.js';
import { createMetricsRegistry } from '../../shared/metrics/index.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import type { WorkerHeartbeat } from '../../shared/protocol/bus.js';
import { workerReadiness } from '../readiness-checks.js';

function requireNats(flags: NatsFlags): NatsConnectionSettings {
  const settings = natsSettings(flags);
  if (!settings) throw new UsageError('--nats: a NATS server URL is required (or set HPO_NATS_URL)');
  return settings;
}

export function registerWorker(program: Command, setExitCode: (code: number) => void): void {
  addReplicasOption(
    addNatsWaitOption(
      addNatsOptions(
        addMetricsOptions(
          addTaskOptions(
            program
              .command('worker')
              .description(
                'serve trials from NATS with a local thread pool until stopped (SIGTERM/Ctrl-C drains)',
              )
              .option(
                '--concurrency <n>',
                'trial threads (default: cores; with libtensorflow each gets its share of TensorFlow threads)',
                positiveInt,
              )
              .addOption(backendOption())
              .option(
                '--gpus <list>',
                'tensorflow-gpu: one worker process per GPU: a count (2: GPUs 0 and 1), indices (0,2), device=N, or all (docs/GPU.md)',
                gpuListOrAll,
              )
              .option(
                '--slots-per-gpu <n>',
                'tensorflow-gpu: trials sharing each GPU at once (threads of its process up to --concurrency, then more processes; default 1)',
                positiveInt,
              )
              .option('--name <name>', 'worker name in results and `hpo workers` (default: host:pid)')
              .addOption(dataDirOption())
              .option(
                '--data-seeds <list>',
                `data seeds this worker builds (comma-separated; default ${DEFAULT_DATA_SEEDS.join(',')}): ` +
                  'trials of another seed are left to other workers',
                seedList,
              )
              .option(
                '--models-dir <dir>',
                'root of the models this worker saves, as <dir>/<experiment id>/<trial id> (default: $HPO_MODELS_DIR or ./hpo-models)',
              )
              .option(
                '--max-model-mb <n>',
                `the largest saved model (MiB, all files) sent to the orchestrator through the object store; a larger one stays here and the result says so (default ${DEFAULT_MAX_MODEL_BYTES / 2 ** 20})`,
                positiveNumber,
              ),
          ),
        ),
        true,
      ),
    ),
  ).action(
    async (
      flags: NatsFlags &
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
        },
    ) => {
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
      // First: a metrics port in use fails before connecting.
      const metrics = await openMetrics(flags);
      let nc: Awaited<ReturnType<typeof connectNats>>;
      try {
        nc = await connectNats({
          ...settings,
          name: `hpo-worker ${name}`,
          firstConnectRetryMs: natsWaitMs(flags),
          log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
        });
      } catch (err) {
        await metrics?.server.close();
        throw err;
      }
      // Every line of this process carries the worker's name.
      const log = childLogger({ worker: name });
      const pool = new TrialPool({
        threads: gpu.threads ?? flags.concurrency,
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
        streams: { replicas: chooseReplicas(clusterView(nc), flags.replicas).replicas },
      });
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
            const s = worker.stats();
            return {
              invalidMessages: s.invalidMessages,
              redelivered: s.redelivered,
              refused: s.refused,
              busErrors: s.busErrors,
            };
          },
        });
      }
      // /readyz: not ready until the worker takes trials (it may wait for the orchestrator's queue).
      const readiness = workerReadiness(nc, worker, pool.slots);
      metrics?.server.setReadiness(readiness);
      if (supervised) answerReadinessOverIpc(readiness);
      announceMetrics(metrics);
      await worker.start();
      const servers = displayServers(settings.servers);
      const offered = tasks.list().length ? `, tasks ${tasks.labels().join(' ')}` : '';
      log.info(
        { slots: pool.slots, backend: flags.backend, servers, tasks: tasks.labels() },
        `hpo worker ${name}: ${pool.slots} slot(s), backend ${flags.backend}, ` +
          `data seeds ${(flags.dataSeeds ?? DEFAULT_DATA_SEEDS).join(',')}, servers ${servers}${offered}`,
      );
      let signals = 0;
      await new Promise<void>((resolve) => {
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
      gpuMetrics?.stop();
      log.info(
        { trialsDone: worker.stats().trialsDone },
        `hpo worker ${name}: stopped after ${worker.stats().trialsDone} trial(s)`,
      );
      await metrics?.server.close();
      if (supervised) {
        process.removeAllListeners('disconnect');
        process.disconnect?.(); // the IPC channel would keep this process alive
      }
      setExitCode(0);
    },
  );

  addNatsOptions(
    program
      .command('workers')
      .description('list the live workers on the bus: slots, busy, backend, trials done')
      .addOption(jsonOption())
      .option('--wait <ms>', 'how long to listen for answers', positiveInt, 1000),
    true,
  ).action(async (flags: NatsFlags & { json?: boolean; wait: number }) => {
    const nc = await connectNats({ ...requireNats(flags), name: 'hpo workers' });
    try {
      const workers = await listWorkers(nc, { timeoutMs: flags.wait });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(workers, null, 2)}\n`);
        return;
      }
      const table = plainTable([
        'name',
        'protocol',
        'slots',
        'busy',
        'backend',
        'tasks',
        'trials done',
        'up since',
        'state',
      ]);
      for (const w of workers) {
        table.push([
          w.name,
          w.v === PROTOCOL_VERSION
            ? String(w.v)
            : `${w.v} (incompatible: this hpo speaks ${PROTOCOL_VERSION})`,
          w.slots,
          w.busy,
          backendText(w),
          w.tasks?.join(' ') ?? 'built-in',
          w.trials_done,
          isoTime(w.started_at),
          w.draining ? 'draining' : 'serving',
        ]);
      }
      process.stdout.write(`${workers.length} worker(s)\n${table.toString()}\n`);
    } finally {
      await nc.close();
    }
  });
}

/** The backends a worker's trials ran on ("wasm (auto)" when auto picked it), else the one asked for. */
export function backendText(w: Pick<WorkerHeartbeat, 'backend' | 'backends_in_use'>): string {
  const used = (w.backends_in_use ?? []).join(', ');
  if (!used) return w.backend ?? '-';
  return w.backend === undefined || w.backend === used ? used : `${used} (${w.backend})`;
}

/** A time as ISO 8601, or '?' when it is out of Date's range (never a RangeError). */
function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '?' : d.toISOString();
}
