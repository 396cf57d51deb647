/**
 * The scaling table: scenario (a) (zero-sleep synthetic trials through a real nats-server, real
 * `hpo worker` processes and SearchRunner with the SQLite store) run once per worker-process count,
 * each on a fresh fleet, with the same trials per row: trials/s, dispatch latency, and CPU ms per
 * trial of each kind of process (orchestrator, nats-server, workers, everything else on the machine).
 */
import { loadavg } from 'node:os';
import type { NatsConnection } from '../../worker/nats/index.js';
import { round } from '../stats.js';
import { benchThroughput, LATENCY_DEFINITION, type ThroughputReport } from './throughput.js';

export interface ScalingOptions {
  nc: NatsConnection;
  url: string;
  natsPid: number;
  /** One row per entry: that many `hpo worker` processes. */
  workerCounts: readonly number[];
  /** Trial threads per worker process. */
  concurrency: number;
  /** Measured trials per row (the same in every row). */
  trials: number;
  /** Untimed zero-sleep trials per row before measuring (JIT warm-up). */
  warmTrials: number;
  /** Trials of each row's one-at-a-time latency probe. */
  probeTrials: number;
  /** The SQLite file of the row with `processes` worker processes (or ':memory:'). */
  storePath: (processes: number) => string;
  cores: number;
  log: (line: string) => void;
}

/** CPU ms per measured trial, by kind of process (null where a process could not be read). */
export interface CpuPerTrial {
  /** This bench process: SearchRunner, SqliteStore, NatsTransport. */
  orchestrator: number | null;
  nats_server: number | null;
  /** All `hpo worker` processes (with their pool threads) together. */
  workers_total: number | null;
  /** workers_total / worker processes. */
  per_worker_process: number | null;
  /** Everything else the machine ran meanwhile (not the benchmark's). */
  other_load: number | null;
}

export interface ScalingRow {
  worker_processes: number;
  threads_per_process: number;
  slots: number;
  max_in_flight: number;
  trials: number;
  failed: number;
  seconds: number;
  trials_per_s: number;
  dispatch_ms: { p50: number; p99: number };
  /** The same latency with one trial in flight at a time (no queueing). */
  idle_dispatch_ms: { p50: number; p99: number };
  /** os.loadavg() just before the row's fleet was started. */
  load_average_at_start: { '1m': number; '5m': number; '15m': number };
  cpu_ms_per_trial: CpuPerTrial;
  /** CPU ms of each process over the measured run (workers by name). */
  cpu_ms: Record<string, number | null>;
  /** The bench's processes' CPU over the run, as a share (%) of all the machine's cores. */
  cpu_utilization_pct: number;
  /** Other processes' CPU over the run, same scale. */
  other_load_pct: number | null;
}

export interface ScalingReport {
  trials_per_row: number;
  threads_per_process: number;
  cores: number;
  store: string;
  latency_definition: string;
  cpu_definition: string;
  rows: ScalingRow[];
}

export const CPU_DEFINITION =
  'user + system CPU ms over the SearchRunner run (from /proc/<pid>/stat for nats-server and the workers, ' +
  "process.cpuUsage() for the orchestrator; other load = the machine's busy time minus these), divided " +
  'by the trials run';

/** Keys of CpuMeter.since() that are not worker processes. */
const NOT_WORKERS = new Set(['orchestrator', 'nats-server', 'other processes']);

function perTrial(ms: number | null | undefined, trials: number): number | null {
  return ms === null || ms === undefined || trials === 0 ? null : round(ms / trials);
}

/** CPU ms per trial by kind of process, from a CpuMeter reading over `trials` trials. */
export function cpuPerTrial(
  cpu: Record<string, number | null>,
  processes: number,
  trials: number,
): CpuPerTrial {
  const workers = Object.entries(cpu).filter(([name]) => !NOT_WORKERS.has(name));
  const total =
    workers.length === processes && workers.every(([, ms]) => ms !== null)
      ? workers.reduce((s, [, ms]) => s + (ms ?? 0), 0)
      : null;
  return {
    orchestrator: perTrial(cpu.orchestrator, trials),
    nats_server: perTrial(cpu['nats-server'], trials),
    workers_total: perTrial(total, trials),
    per_worker_process: perTrial(total === null ? null : total / processes, trials),
    other_load: perTrial(cpu['other processes'], trials),
  };
}

function toRow(a: ThroughputReport, load: number[]): ScalingRow {
  return {
    worker_processes: a.workers.processes,
    threads_per_process: a.workers.threads_per_process,
    slots: a.workers.slots,
    max_in_flight: a.max_in_flight,
    trials: a.trials,
    failed: a.failed,
    seconds: a.seconds,
    trials_per_s: a.trials_per_s,
    dispatch_ms: a.latency_ms,
    idle_dispatch_ms: { p50: a.idle_latency_ms.p50, p99: a.idle_latency_ms.p99 },
    load_average_at_start: { '1m': round(load[0], 2), '5m': round(load[1], 2), '15m': round(load[2], 2) },
    cpu_ms_per_trial: cpuPerTrial(a.cpu_ms, a.workers.processes, a.trials),
    cpu_ms: a.cpu_ms,
    cpu_utilization_pct: a.cpu_utilization_pct,
    other_load_pct: a.other_load_pct,
  };
}

/** Runs scenario (a) once per worker count, each on a fresh fleet (rows in the order given). */
export async function benchScaling(o: ScalingOptions): Promise<ScalingReport> {
  const rows: ScalingRow[] = [];
  let store = '';
  for (const processes of o.workerCounts) {
    const load = loadavg();
    o.log(
      `scaling: ${processes} worker process(es) x ${o.concurrency} thread(s), ${o.trials} trials ` +
        `(load average ${load.map((l) => l.toFixed(2)).join(' ')})`,
    );
    const a = await benchThroughput(
      {
        nc: o.nc,
        url: o.url,
        natsPid: o.natsPid,
        processes,
        concurrency: o.concurrency,
        trials: o.trials,
        warmTrials: o.warmTrials,
        probeTrials: o.probeTrials,
        maxInFlight: 2 * processes * o.concurrency,
        storePath: o.storePath(processes),
        direct: false,
        tag: `s${processes}w`,
        log: o.log,
      },
      o.cores,
    );
    if (a.failed > 0) throw new Error(`scaling row with ${processes} workers: ${a.failed} trials failed`);
    store = a.store;
    rows.push(toRow(a, load));
  }
  return {
    trials_per_row: o.trials,
    threads_per_process: o.concurrency,
    cores: o.cores,
    store,
    latency_definition: LATENCY_DEFINITION,
    cpu_definition: CPU_DEFINITION,
    rows,
  };
}
