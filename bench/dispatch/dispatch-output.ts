/** The bench's printed table (measured against the targets) and its JSON file. */
import { writeFileSync } from 'node:fs';
import { plainTable } from '../../cli/plain-table.js';
import type { MachineInfo } from '../machine.js';
import type { OverheadReport } from './overhead.js';
import type { ThroughputReport } from './throughput.js';
import type { CommandOverheadReport } from './command-overhead.js';
import type { ScalingReport } from './scaling.js';
import type { ReplicationReport } from './replication.js';

export interface DispatchBenchReport {
  a?: ThroughputReport;
  b?: OverheadReport;
  c?: CommandOverheadReport;
  /** Scenario (a) for 1, 2, 4 ... worker processes. */
  scaling?: ScalingReport;
  /** Scenario (a) on a 3-node cluster, streams at 1 and at 3 replicas. */
  replication?: ReplicationReport;
  machine: MachineInfo;
  date: string;
  quick: boolean;
}

/** The targets (benchmark figures, not tests). */
export const TARGETS = {
  aTrialsPerS: 1000,
  aDispatchP99Ms: 20,
  bOverheadPct: 5,
  cOverheadMs: 30,
} as const;

const met = (ok: boolean) => (ok ? 'yes' : 'NO');

export function renderTable(report: DispatchBenchReport): string {
  const table = plainTable(['run', 'measure', 'value', 'target', 'met']);
  const { a, b } = report;
  if (a) {
    const label = `(a) ${a.trials} x 0 ms`;
    table.push(
      [
        label,
        'trials/s (SearchRunner)',
        a.trials_per_s,
        `>= ${TARGETS.aTrialsPerS}`,
        met(a.trials_per_s >= TARGETS.aTrialsPerS),
      ],
      [label, 'dispatch latency p50 (ms)', a.latency_ms.p50, '', ''],
      [
        label,
        'dispatch latency p99 (ms)',
        a.latency_ms.p99,
        `<= ${TARGETS.aDispatchP99Ms}`,
        met(a.latency_ms.p99 <= TARGETS.aDispatchP99Ms),
      ],
      [
        label,
        'submit→result p50 / p99 (ms)',
        `${a.submit_to_result_ms.p50} / ${a.submit_to_result_ms.p99}`,
        '',
        '',
      ],
      [label, 'idle dispatch p50 / p99 (ms)', `${a.idle_latency_ms.p50} / ${a.idle_latency_ms.p99}`, '', ''],
      [label, 'orchestrator CPU ms/trial', a.orchestrator_cpu_ms_per_trial, '', ''],
      [
        label,
        'CPU used: bench / other procs (%)',
        `${a.cpu_utilization_pct} / ${a.other_load_pct ?? '?'}`,
        '',
        '',
      ],
      [
        label,
        'fleet',
        `${a.workers.processes} x ${a.workers.threads_per_process}, in flight ${a.max_in_flight}`,
        '',
        '',
      ],
    );
    if (a.transport_only) {
      const t = a.transport_only;
      table.push(
        [label, 'trials/s (transport alone)', t.trials_per_s, '', ''],
        [label, 'orch. CPU ms/trial (transport alone)', t.orchestrator_cpu_ms_per_trial, '', ''],
      );
    }
  }
  if (b) {
    const label = `(b) ${b.trials} x ${b.trial_seconds} s`;
    table.push(
      [label, 'slots', b.slots, '', ''],
      [label, 'wall (s)', b.wall_s, '', ''],
      [label, 'theoretical min (s)', b.min_s, '', ''],
      [
        label,
        'overhead (%)',
        b.overhead_pct,
        `<= ${TARGETS.bOverheadPct}`,
        met(b.overhead_pct <= TARGETS.bOverheadPct),
      ],
      [
        label,
        'overhead vs whole waves (%)',
        `${b.overhead_vs_whole_waves_pct} (min ${b.whole_waves_min_s} s)`,
        '',
        '',
      ],
      [label, 'orchestrator CPU ms/trial', b.orchestrator_cpu_ms_per_trial, '', ''],
      [label, 'thread run ms mean / p99', `${b.thread_run_ms.mean} / ${b.thread_run_ms.p99}`, '', ''],
      [label, 'slot utilization (%)', b.slot_utilization_pct, '', ''],
      [
        label,
        'CPU used: bench / other procs (%)',
        `${b.cpu_utilization_pct} / ${b.other_load_pct ?? '?'}`,
        '',
        '',
      ],
      [
        label,
        'dispatch latency p50 / p99 (ms)',
        `${b.dispatch_latency_ms.p50} / ${b.dispatch_latency_ms.p99}`,
        '',
        '',
      ],
    );
  }
  const { c } = report;
  if (c) {
    const label = `(c) ${c.trials} command trials`;
    table.push(
      [label, 'program alone / as a trial (ms)', `${c.direct_ms} / ${c.hpo_ms}`, '', ''],
      [
        label,
        'overhead per trial (ms)',
        c.overhead_ms,
        `< ${TARGETS.cOverheadMs}`,
        met(c.overhead_ms < TARGETS.cOverheadMs),
      ],
      [label, 'CPU of this process per trial, beyond direct (ms)', c.cpu_overhead_ms, '', ''],
      [
        label,
        'paired overhead p50 / p90 (ms)',
        `${c.overhead_paired_ms.p50} / ${c.overhead_paired_ms.p90}`,
        '',
        '',
      ],
    );
  }
  const parts = table.length > 0 ? [table.toString()] : [];
  if (report.scaling) parts.push(renderScaling(report.scaling));
  if (report.replication) parts.push(renderReplication(report.replication));
  return parts.join('\n\n');
}

const orUnknown = (v: number | null) => (v === null ? '?' : v);

/** The scaling section: one line per worker-process count, CPU ms per trial per kind of process. */
export function renderScaling(s: ScalingReport): string {
  const table = plainTable([
    'workers',
    'threads',
    'slots',
    'trials',
    'trials/s',
    'dispatch p50 / p99 (ms)',
    'CPU ms/trial: orch.',
    'nats-server',
    'workers (sum)',
    'per worker',
    'other load',
    'load avg 1m at start',
  ]);
  for (const r of s.rows) {
    const c = r.cpu_ms_per_trial;
    table.push([
      r.worker_processes,
      r.threads_per_process,
      r.slots,
      r.trials,
      r.trials_per_s,
      `${r.dispatch_ms.p50} / ${r.dispatch_ms.p99}`,
      orUnknown(c.orchestrator),
      orUnknown(c.nats_server),
      orUnknown(c.workers_total),
      orUnknown(c.per_worker_process),
      orUnknown(c.other_load),
      r.load_average_at_start['1m'],
    ]);
  }
  return (
    `scaling: scenario (a), ${s.trials_per_row} zero-sleep trials per row, SearchRunner + ${s.store}, ` +
    `${s.cores} cores, fresh fleet per row, in flight 2 x slots\n${table.toString()}`
  );
}

/** The replication section: one line per replica count. */
export function renderReplication(r: ReplicationReport): string {
  const table = plainTable([
    'replicas',
    'trials/s',
    'dispatch p50 / p99 (ms)',
    'submit→result p50 / p99 (ms)',
    'CPU ms/trial: orch.',
    '3 nats-servers',
    'other load',
  ]);
  for (const row of r.rows) {
    table.push([
      `R${row.replicas}`,
      row.trials_per_s,
      `${row.latency_ms.p50} / ${row.latency_ms.p99}`,
      `${row.submit_to_result_ms.p50} / ${row.submit_to_result_ms.p99}`,
      row.orchestrator_cpu_ms_per_trial,
      orUnknown(row.servers_cpu_ms_per_trial),
      row.other_load_pct === null ? '?' : `${row.other_load_pct} %`,
    ]);
  }
  return (
    `replication: scenario (a) on a ${r.servers}-node nats-server cluster (loopback), ${r.trials_per_row} ` +
    `zero-sleep trials per row, ${r.workers.processes} worker process(es) x ${r.workers.threads_per_process} ` +
    `threads, a fresh cluster per row\n${table.toString()}`
  );
}

export function writeReport(file: string, report: DispatchBenchReport): void {
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
