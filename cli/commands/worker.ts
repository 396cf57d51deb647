/** `hpo worker` (serve trials from NATS on this machine) and `hpo workers` (list the live fleet). */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { BackendChoice } from '../../worker/backends/backend.js';
import { createDataCheck } from '../../worker/data/check.js';
import { UsageError } from '../../shared/errors.js';
import { connectNats, displayServers, NatsWorker } from '../../worker/nats/index.js';
import { listWorkers } from '../../orchestrator/api/index.js';
import { TrialPool } from '../../worker/pool/index.js';
import {
  addNatsOptions,
  type NatsFlags,
  natsSettings,
  type NatsConnectionSettings,
} from '../options/nats-options.js';
import { positiveInt } from '../options/option-values.js';
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
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';

function requireNats(flags: NatsFlags): NatsConnectionSettings {
  const settings = natsSettings(flags);
  if (!settings) throw new UsageError('--nats: a NATS server URL is required (or set HPO_NATS_URL)');
  return settings;
}

export function registerWorker(program: Command, setExitCode: (code: number) => void): void {
  addNatsOptions(
    addMetricsOptions(
      program
        .command('worker')
        .description('serve trials from NATS with a local thread pool until stopped (SIGTERM/Ctrl-C drains)')
        .option(
          '--concurrency <n>',
          'trial threads (default: cores; 1 with a libtensorflow backend)',
          positiveInt,
        )
        .addOption(backendOption())
        .option('--name <name>', 'worker name in results and `hpo workers` (default: host:pid)')
        .addOption(dataDirOption())
        .option(
          '--models-dir <dir>',
          'root of the models this worker saves, as <dir>/<experiment id>/<trial id> (default: $HPO_MODELS_DIR or ./hpo-models)',
        ),
    ),
    true,
  ).action(
    async (
      flags: NatsFlags &
        MetricsFlags & {
          concurrency?: number;
          backend: BackendChoice;
          name?: string;
          dataDir?: string;
          modelsDir?: string;
        },
    ) => {
      const settings = requireNats(flags);
      const name = flags.name ?? `${hostname()}:${process.pid}`;
      // First: a metrics port in use fails before connecting.
      const metrics = await openMetrics(flags);
      let nc: Awaited<ReturnType<typeof connectNats>>;
      try {
        nc = await connectNats({ ...settings, name: `hpo-worker ${name}` });
      } catch (err) {
        await metrics?.server.close();
        throw err;
      }
      const pool = new TrialPool({
        threads: flags.concurrency,
        backend: flags.backend,
        dataDir: flags.dataDir,
        modelsDir: flags.modelsDir ?? process.env.HPO_MODELS_DIR ?? 'hpo-models',
        name,
      });
      const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const worker = new NatsWorker(nc, pool, {
        name,
        backend: flags.backend,
        accept: createDataCheck(flags.dataDir),
        log,
      });
      if (metrics) {
        new WorkerMetrics({
          registry: metrics.registry,
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
      announceMetrics(metrics);
      await worker.start();
      log(
        `hpo worker ${name}: ${pool.slots} slot(s), backend ${flags.backend}, servers ${displayServers(settings.servers)}`,
      );
      let signals = 0;
      await new Promise<void>((resolve) => {
        const stop = () => {
          signals++;
          if (signals === 1) {
            log('draining: no new trials; running trials finish (signal again to hand them back now)');
            worker.drain().then(resolve, resolve);
          } else {
            log('handing running trials back to the queue');
            worker.close().then(resolve, resolve);
          }
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      log(`hpo worker ${name}: stopped after ${worker.stats().trialsDone} trial(s)`);
      await metrics?.server.close();
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
          w.backend ?? '-',
          w.trials_done,
          new Date(w.started_at).toISOString(),
          w.draining ? 'draining' : 'serving',
        ]);
      }
      process.stdout.write(`${workers.length} worker(s)\n${table.toString()}\n`);
    } finally {
      await nc.close();
    }
  });
}
