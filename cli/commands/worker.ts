/** `hpo worker` (serve trials from NATS on this machine) and `hpo workers` (list the live fleet). */
import type { Command } from 'commander';
import { DEFAULT_DATA_SEEDS } from '../../worker/data/check.js';
import { connectNats } from '../../worker/nats/index.js';
import { listWorkers } from '../../orchestrator/api/index.js';
import {
  addNatsOptions,
  addNatsWaitOption,
  addReplicasOption,
  type NatsFlags,
} from '../options/nats-options.js';
import { positiveInt, positiveNumber, seedList } from '../options/option-values.js';
import { DEFAULT_MAX_MODEL_BYTES } from '../../shared/protocol/model-transfer.js';
import { backendOption } from '../options/backend-option.js';
import { dataDirOption } from '../options/data-options.js';
import { jsonOption } from '../options/output-options.js';
import { addMetricsOptions } from '../options/metrics-options.js';
import { plainTable } from '../plain-table.js';
import { addTaskOptions } from '../options/task-options.js';
import { gpuListOrAll } from '../options/gpu-options.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import type { WorkerHeartbeat } from '../../shared/protocol/bus.js';
import { requireNats, serveWorker, type WorkerFlags } from './serve-worker.js';

/** `hpo worker`'s options (serveWorker does the rest). */
function workerCommand(program: Command): Command {
  return addReplicasOption(
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
  );
}

/** `hpo workers`: the live fleet, from the heartbeats on the bus. */
function workersCommand(program: Command): void {
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

export function registerWorker(program: Command, setExitCode: (code: number) => void): void {
  workerCommand(program).action((flags: WorkerFlags) => serveWorker(flags, setExitCode));
  workersCommand(program);
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
