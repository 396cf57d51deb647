/** Options of `hpo search` and `hpo resume` (one experiment run on this machine or over NATS). */
import { dirname, join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { BackendChoice } from '../../worker/backends/backend.js';
import { parseDuration } from '../../orchestrator/search-space/index.js';
import { LEASE_STALE_MS } from '../../orchestrator/store/index.js';
import { type OwnerFlags } from '../owner.js';
import {
  addNatsOptions,
  addNatsWaitOption,
  addReplicasOption,
  type NatsFlags,
} from '../options/nats-options.js';
import { portValue, positiveInt, positiveNumber } from '../options/option-values.js';
import { DEFAULT_MAX_MODEL_BYTES } from '../../shared/protocol/model-transfer.js';
import { backendOption } from '../options/backend-option.js';
import { dataDirOption } from '../options/data-options.js';
import { jsonOption } from '../options/output-options.js';
import { addDbOption } from '../options/store-options.js';
import { addSearchMetricsOptions, type SearchMetricsFlags } from '../options/metrics-options.js';
import {
  DEFAULT_MODELS_BUCKET_BYTES,
  parseSavePolicy,
  SAVE_POLICY_HELP,
  type SavePolicy,
} from '../../orchestrator/artifacts/index.js';
import { DEFAULT_EVENTS_MAX_BYTES } from '../../shared/nats/connection.js';
import { lingerValue } from './linger.js';

export interface RunFlags extends NatsFlags, SearchMetricsFlags, OwnerFlags {
  natsWait?: number;
  /** Over NATS: copies JetStream keeps of the streams and buckets (undefined: by the server). */
  replicas?: number;
  db: string;
  maxInFlight?: number;
  ackWait?: number;
  maxDeliver?: number;
  /** Seconds (--trial-timeout). */
  trialTimeout?: number;
  httpPort?: number;
  httpHost: string;
  uiPort?: number;
  /** Seconds the dashboard stays after the search (Infinity: until Ctrl-C); undefined: by terminal. */
  uiLinger?: number;
  workers?: number;
  backend: BackendChoice;
  dataDir?: string;
  json?: boolean;
  saveModels: SavePolicy;
  modelsDir?: string;
  /** Over NATS: the largest model (MiB, all files) taken from a worker through the object store. */
  maxModelMb?: number;
  /** Over NATS: bytes (MiB) the models bucket holds at most. */
  modelsBucketMb?: number;
  /** Over NATS: bytes (MiB) the events stream holds at most (when this process creates it, or it has none). */
  eventsMaxMb?: number;
  timeBudget?: number;
  timeBudgetHard?: boolean;
}

/** `--time-budget 60m` → seconds. */
function durationValue(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    throw new InvalidArgumentError('expected a duration: seconds, or e.g. 90s, 15m, 2h, 1h30m.');
  }
  return seconds;
}

/** `--trial-timeout 5m` → seconds (at least 1, at most 30 days). */
function trialTimeoutValue(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined || !(seconds >= 1) || seconds > 30 * 24 * 3600) {
    throw new InvalidArgumentError('expected a duration of at least 1 s: seconds, or e.g. 90s, 15m, 2h.');
  }
  return seconds;
}

/** Default number of proposals `--dry-run` prints. */
export const DRY_RUN_PROPOSALS = 5;

/** `--max-model-mb` (or another MiB flag's value) in bytes (undefined: the default). */
export function maxModelBytes(flags: { maxModelMb?: number }): number | undefined {
  return mebibytes(flags.maxModelMb);
}

/** A MiB flag's value in bytes (undefined: the default). */
export function mebibytes(mb: number | undefined): number | undefined {
  return mb === undefined ? undefined : Math.floor(mb * 2 ** 20);
}

/** Where the local pool saves models (remote workers use their own --models-dir). */
export function modelsRoot(flags: Pick<RunFlags, 'db' | 'modelsDir'>): string {
  return flags.modelsDir ?? join(dirname(flags.db), 'hpo-models');
}

/** With --nats: how trials are queued, redelivered and timed out. */
function addDeliveryOptions(cmd: Command): Command {
  return cmd
    .option(
      '--max-in-flight <n>',
      'with --nats: most trials queued or running at once (default: method bayes follows the ' +
        "workers' free slots plus a quarter of them; random and grid queue up to 64 ahead)",
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
    .option(
      '--trial-timeout <duration>',
      'with --nats: a trial in flight with no sign of life this long (no event, its message gone from the ' +
        'queue) is dispatched again, and fails after 3 such timeouts (default: ack-wait x max-deliver)',
      trialTimeoutValue,
    );
}

/** The JSON API and the live dashboard served during the search. */
function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--http-port <n>', 'serve /api/status and /api/leaderboard as JSON on this port', portValue)
    .option(
      '--http-host <host>',
      'address for --http-port (set it explicitly to expose beyond this machine)',
      '127.0.0.1',
    )
    .option(
      '--ui-port <n>',
      'serve the live web dashboard on this port (0: any free one), on --http-host',
      portValue,
    )
    .option(
      '--ui-linger <duration>',
      "after the search, keep serving the dashboard this long (e.g. 90s, 10m) or 'forever' (until " +
        'Ctrl-C) (default: forever when run from a terminal, 0 otherwise: CI and scripts never hang)',
      lingerValue,
    );
}

/** Where trials run (the local pool), their data, the output, and the models they save. */
function addPoolAndModelOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'without --nats: trial threads in the local pool (default: cores)', positiveInt)
    .addOption(backendOption())
    .addOption(dataDirOption())
    .addOption(jsonOption('print the outcome and leaderboard as JSON at the end'))
    .addOption(
      new Option('--save-models <policy>', `save trained models (tfjs files): ${SAVE_POLICY_HELP}`)
        .argParser((v: string) => parseSavePolicy(v))
        .default({ kind: 'none' } as SavePolicy, 'none'),
    )
    .option('--models-dir <dir>', 'where saved models go (default: hpo-models/ beside the database)')
    .option(
      '--max-model-mb <n>',
      `with --nats: the largest model (MiB, all files) taken from a worker through the object store (default ${DEFAULT_MAX_MODEL_BYTES / 2 ** 20})`,
      positiveNumber,
    )
    .option(
      '--models-bucket-mb <n>',
      `with --nats: MiB the models bucket holds at most; uploads past it are refused (default ${DEFAULT_MODELS_BUCKET_BYTES / 2 ** 20})`,
      positiveNumber,
    )
    .option(
      '--events-max-mb <n>',
      `with --nats: MiB the events stream holds at most, oldest dropped first (default ${DEFAULT_EVENTS_MAX_BYTES / 2 ** 20})`,
      positiveNumber,
    );
}

/** The time budget and the owner lease. */
function addBudgetAndOwnerOptions(cmd: Command): Command {
  return cmd
    .option(
      '--time-budget <duration>',
      "no new trials after this long (e.g. 90s, 15m, 2h; overrides the file's run_time_budget)",
      durationValue,
    )
    .option(
      '--time-budget-hard',
      'at the time budget, cancel running trials too (they stay pending, resumable)',
    )
    .option(
      '--owner-timeout <ms>',
      `another driver of the experiment counts as gone after this long without a heartbeat (default ${LEASE_STALE_MS})`,
      positiveInt,
    )
    .option('--force', "take over an experiment whose driver's lease expired (its heartbeat stopped)");
}

export function addRunOptions(cmd: Command): Command {
  return addBudgetAndOwnerOptions(
    addPoolAndModelOptions(
      addServeOptions(
        addDeliveryOptions(
          addSearchMetricsOptions(addReplicasOption(addNatsWaitOption(addNatsOptions(addDbOption(cmd))))),
        ),
      ),
    ),
  );
}
