/** `hpo search FILE` and `hpo resume NAME`: run an experiment on this machine (embedded default). */
import { basename, dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import type { BackendChoice } from '../../worker/backends/backend.js';
import { loadDataset } from '../../worker/data/dataset.js';
import { UsageError } from '../../shared/errors.js';
import { TrialPool } from '../../worker/pool/index.js';
import { collectRunInfo, SearchRunner, type SearchOutcome } from '../../orchestrator/core/index.js';
import { createScheduler } from '../../orchestrator/schedulers/index.js';
import { builtinTaskCatalog } from '../builtin-tasks.js';
import { gridSize, readSearchSpaceFile, type SearchSpace } from '../../orchestrator/search-space/index.js';
import type { Store } from '../../orchestrator/store/index.js';
import { createStrategy } from '../../orchestrator/strategies/index.js';
import { InProcessTransport, type Transport } from '../../orchestrator/transport/index.js';
import { NatsTransport } from '../../orchestrator/transport/nats/index.js';
import { connectNats, displayServers } from '../../worker/nats/index.js';
import { startApiServer, startQueryResponder } from '../../orchestrator/api/index.js';
import { addNatsOptions, type NatsFlags, natsSettings } from '../options/nats-options.js';
import { renderLeaderboard } from '../leaderboard-format.js';
import { portValue, positiveInt } from '../options/option-values.js';
import { backendOption } from '../options/backend-option.js';
import { dataDirOption } from '../options/data-options.js';
import { jsonOption } from '../options/output-options.js';
import { seedOption } from '../options/seed-option.js';
import { createProgressDisplay } from '../progress-display.js';
import { addDbOption, withStore } from '../options/store-options.js';
import {
  addSearchMetricsOptions,
  announceMetrics,
  openMetrics,
  type OpenedMetrics,
  type SearchMetricsFlags,
} from '../options/metrics-options.js';
import { OrchestratorMetrics } from '../../orchestrator/metrics/index.js';
import { WorkerMetrics } from '../../worker/metrics/index.js';
import {
  ModelKeeper,
  parseSavePolicy,
  SAVE_POLICY_HELP,
  type SavePolicy,
} from '../../orchestrator/artifacts/index.js';

interface RunFlags extends NatsFlags, SearchMetricsFlags {
  db: string;
  maxInFlight?: number;
  ackWait?: number;
  maxDeliver?: number;
  httpPort?: number;
  httpHost: string;
  workers?: number;
  backend: BackendChoice;
  dataDir?: string;
  json?: boolean;
  saveModels: SavePolicy;
  modelsDir?: string;
}

/** Where the local pool saves models (remote workers use their own --models-dir). */
function modelsRoot(flags: RunFlags): string {
  return flags.modelsDir ?? join(dirname(flags.db), 'hpo-models');
}

/** Trials the search will run, when that is known. */
export function expectedTotal(space: SearchSpace): number | null {
  const total = Math.min(gridSize(space) ?? Infinity, space.run_cap ?? Infinity);
  return Number.isFinite(total) ? total : null;
}

function addRunOptions(cmd: Command): Command {
  return addSearchMetricsOptions(addNatsOptions(addDbOption(cmd)))
    .option(
      '--max-in-flight <n>',
      "with --nats: trials queued or running at once (about the fleet's slots; default 64)",
      positiveInt,
    )
    .option(
      '--ack-wait <ms>',
      'with --nats: redeliver a trial whose worker went silent this long (default 30000)',
      positiveInt,
    )
    .option(
      '--max-deliver <n>',
      'with --nats: deliveries of a trial before it fails (default 5)',
      positiveInt,
    )
    .option('--http-port <n>', 'serve /api/status and /api/leaderboard as JSON on this port', portValue)
    .option(
      '--http-host <host>',
      'address for --http-port (set it explicitly to expose beyond this machine)',
      '127.0.0.1',
    )
    .option('--workers <n>', 'without --nats: trial threads in the local pool (default: cores)', positiveInt)
    .addOption(backendOption())
    .addOption(dataDirOption())
    .addOption(jsonOption('print the outcome and leaderboard as JSON at the end'))
    .option(
      '--save-models <policy>',
      `save trained models (tfjs files): ${SAVE_POLICY_HELP}`,
      (v: string) => parseSavePolicy(v),
      { kind: 'none' } as SavePolicy,
    )
    .option('--models-dir <dir>', 'where saved models go (default: hpo-models/ beside the database)');
}

interface OpenedTransport {
  transport: Transport;
  /** Where trials run, for the start line. */
  where: string;
  stopResponder: () => void;
  /** Invalid bus messages seen by the transport (for metrics). */
  invalidMessages?: () => number;
}

/** NATS when a server is named (flags or HPO_NATS_URL), else the local thread pool. */
async function openTransport(
  store: Store,
  name: string,
  flags: RunFlags,
  metrics: OpenedMetrics | undefined,
): Promise<OpenedTransport> {
  const nats = natsSettings(flags);
  if (!nats) {
    const pool = new TrialPool({
      threads: flags.workers,
      backend: flags.backend,
      dataDir: flags.dataDir,
      modelsDir: modelsRoot(flags),
    });
    // The trials run in this process: it exports the worker metrics too.
    if (metrics) new WorkerMetrics({ registry: metrics.registry, worker: pool.name, pool });
    return {
      transport: new InProcessTransport(pool),
      where: `${pool.slots} local trial thread(s)`,
      stopResponder: () => {},
    };
  }
  const nc = await connectNats({ ...nats, name: `hpo orchestrator ${name}` });
  const exp = store.getExperiment(name)!;
  const transport = new NatsTransport(nc, {
    experiments: [{ name, id: exp.bus_id, secret: exp.bus_secret }],
    maxInFlight: flags.maxInFlight,
    ackWaitMs: flags.ackWait,
    maxDeliver: flags.maxDeliver,
  });
  return {
    transport,
    where: `workers on NATS ${displayServers(nats.servers)}`,
    stopResponder: startQueryResponder(nc, store, name),
    invalidMessages: () => transport.invalidMessages,
  };
}

async function runExperiment(store: Store, name: string, flags: RunFlags): Promise<number> {
  const exp = store.getExperiment(name)!;
  const space = exp.space;
  let data: { seed: number; sha256: string } | undefined;
  if (space.task === 'multi-digit-mnist') {
    // Generate (or verify) the data set once here, so pool threads only read the cache.
    const ds = await loadDataset({ seed: space.data.seed, dataDir: flags.dataDir });
    data = { seed: space.data.seed, sha256: ds.sha256 };
  }
  // The servers first: a port in use fails here, before any connection or thread pool is open.
  const metrics = await openMetrics(flags);
  let api: Awaited<ReturnType<typeof startApiServer>> | undefined;
  let opened: OpenedTransport;
  try {
    api =
      flags.httpPort === undefined
        ? undefined
        : await startApiServer({ store, experiment: name, port: flags.httpPort, host: flags.httpHost });
    opened = await openTransport(store, name, flags, metrics);
  } catch (err) {
    await api?.close();
    await metrics?.server.close();
    throw err;
  }
  const { transport, where, stopResponder } = opened;
  const observer = metrics
    ? new OrchestratorMetrics({
        registry: metrics.registry,
        store,
        top: flags.metricsTop,
        retentionSeconds: flags.metricsRetention,
        transports: [transport.name],
        invalidMessages: opened.invalidMessages,
      })
    : undefined;
  announceMetrics(metrics);
  store.recordRun(name, collectRunInfo({ backendChoice: flags.backend, workers: where, data }));
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nhpo: stopping: cancelling running trials (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const display = createProgressDisplay(space.metric.name);
  process.stderr.write(
    `hpo: experiment '${name}': ${space.method} search, task ${space.task}, ${where}, db ${flags.db}${api ? `, api ${api.url}/api/status` : ''}\n`,
  );
  let outcome: SearchOutcome | undefined;
  try {
    outcome = await new SearchRunner({
      store,
      transport,
      strategy: createStrategy(space),
      scheduler: createScheduler(space),
      experiment: name,
      data,
      signal: controller.signal,
      total: expectedTotal(space),
      onProgress: (p) => display.update(p),
      observer,
      models: new ModelKeeper({
        store,
        experiment: name,
        experimentId: exp.bus_id,
        policy: flags.saveModels,
        root: modelsRoot(flags),
      }),
    }).run();
  } finally {
    display.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    stopResponder();
    await api?.close();
    await transport.close();
    if (metrics && !outcome) await lingerThenClose(metrics, 0, observer);
  }
  const board = store.leaderboard(name, { top: 10 });
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ ...outcome, leaderboard: JSON.parse(renderLeaderboard(exp, board, 'json')) }, null, 2)}\n`,
    );
  } else {
    const p = outcome.progress;
    process.stdout.write(
      `\n${name}: ${outcome.status}; ${p.completed} completed, ${p.stopped} stopped, ${p.failed} failed\n`,
    );
    if (board.length > 0) process.stdout.write(renderLeaderboard(exp, board, 'table'));
  }
  if (metrics) {
    await lingerThenClose(metrics, outcome.status === 'completed' ? flags.metricsLinger : 0, observer);
  }
  if (outcome.status === 'interrupted') {
    process.stderr.write(`hpo: resume with: hpo resume ${name} --db ${flags.db}\n`);
    return 130;
  }
  return 0;
}

/** Serves /metrics `seconds` longer (a signal cuts it short) so Prometheus scrapes the final values. */
async function lingerThenClose(
  metrics: OpenedMetrics,
  seconds: number,
  observer: OrchestratorMetrics | undefined,
): Promise<void> {
  if (seconds > 0) {
    process.stderr.write(`hpo: serving ${metrics.server.url} for ${seconds} s more (--metrics-linger)\n`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        resolve();
      };
      const timer = setTimeout(done, seconds * 1000);
      process.on('SIGINT', done);
      process.on('SIGTERM', done);
    });
  }
  observer?.close();
  await metrics.server.close();
}

function defaultName(file: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${basename(file, extname(file))}-${stamp}`;
}

export function registerSearch(program: Command, setExitCode: (code: number) => void): void {
  addRunOptions(
    program
      .command('search')
      .description('run a search described by a sweep file on this machine')
      .argument('<file>', 'search-space file (YAML, W&B sweep format; see docs/SEARCH-SPACES.md)')
      .option('--name <name>', 'experiment name (default: file name and time)')
      .addOption(seedOption('override the file seed')),
  ).action(async (file: string, flags: RunFlags & { name?: string; seed?: number }) => {
    const { space, source } = readSearchSpaceFile(file, { tasks: builtinTaskCatalog() });
    if (flags.seed !== undefined) space.seed = flags.seed;
    const name = flags.name ?? defaultName(file);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
      throw new UsageError(`--name: expected letters, digits, '.', '_' or '-' (at most 128), got '${name}'`);
    }
    setExitCode(
      await withStore(flags.db, (store) => {
        if (store.getExperiment(name)) {
          throw new UsageError(
            `experiment '${name}' already exists in ${flags.db}: use 'hpo resume ${name}' or another --name`,
          );
        }
        store.createExperiment(name, space, source);
        return runExperiment(store, name, flags);
      }),
    );
  });

  addRunOptions(
    program
      .command('resume')
      .description('continue an interrupted experiment: finished trials are kept, interrupted ones run again')
      .argument('<name>', 'experiment name'),
  ).action(async (name: string, flags: RunFlags) => {
    setExitCode(
      await withStore(flags.db, (store) => {
        const exp = store.getExperiment(name);
        if (!exp)
          throw new UsageError(
            `no experiment '${name}' in ${flags.db} (see hpo experiments --db ${flags.db})`,
          );
        return runExperiment(store, name, flags);
      }),
    );
  });
}
