/**
 * Scenario (r): what replication costs. Scenario (a)'s SearchRunner path (zero-sleep synthetic trials,
 * `hpo worker` processes) on a three-node nats-server cluster on loopback (bench/nats-cluster.ts), once
 * with every stream at 1 replica and once at 3; a fresh cluster per row, the streams created with the
 * row's count before the fleet starts. CPU is metered over all three servers.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats } from '../../worker/nats/index.js';
import { ensureStreams } from '../../shared/nats/connection.js';
import { busNames } from '../../shared/protocol/bus.js';
import { killOnExit } from '../cleanup.js';
import { startNatsCluster } from '../nats-cluster.js';
import { benchThroughput, type ThroughputReport } from './throughput.js';

export interface ReplicationOptions {
  replicas: number[];
  trials: number;
  processes: number;
  concurrency: number;
  warmTrials: number;
  probeTrials: number;
  storePath: (replicas: number) => string;
  cores: number;
  log: (line: string) => void;
}

export interface ReplicationRow {
  replicas: number;
  trials_per_s: number;
  latency_ms: { p50: number; p99: number };
  submit_to_result_ms: { p50: number; p99: number };
  orchestrator_cpu_ms_per_trial: number;
  /** CPU ms per trial of the three nats-servers together. */
  servers_cpu_ms_per_trial: number | null;
  other_load_pct: number | null;
  detail: ThroughputReport;
}

export interface ReplicationReport {
  servers: number;
  trials_per_row: number;
  workers: { processes: number; threads_per_process: number };
  rows: ReplicationRow[];
}

export async function benchReplication(o: ReplicationOptions): Promise<ReplicationReport> {
  const rows: ReplicationRow[] = [];
  for (const replicas of o.replicas) {
    const cluster = await startNatsCluster();
    const forget = killOnExit(() => cluster.killAll());
    const nc = await connectNats({ servers: cluster.urls, name: `hpo bench-dispatch R${replicas}` });
    try {
      await ensureStreams(await jetstreamManager(nc), busNames(), { replicas });
      o.log(`cluster ${cluster.urls.join(',')}: streams at ${replicas} replica(s)`);
      const [first, ...rest] = cluster.nodes;
      const a = await benchThroughput(
        {
          nc,
          url: cluster.urls.join(','),
          natsPid: first.pid(),
          otherServerPids: rest.map((n) => [`nats-server ${n.name}`, n.pid()]),
          processes: o.processes,
          concurrency: o.concurrency,
          trials: o.trials,
          warmTrials: o.warmTrials,
          probeTrials: o.probeTrials,
          maxInFlight: 2 * o.processes * o.concurrency,
          storePath: o.storePath(replicas),
          direct: false,
          tag: `r${replicas}`,
          log: o.log,
        },
        o.cores,
      );
      const servers = Object.entries(a.cpu_ms)
        .filter(([k]) => k.startsWith('nats-server'))
        .map(([, v]) => v);
      const serverMs = servers.some((v) => v === null)
        ? null
        : servers.reduce((sum, v) => sum! + v!, 0)! / a.trials;
      rows.push({
        replicas,
        trials_per_s: a.trials_per_s,
        latency_ms: a.latency_ms,
        submit_to_result_ms: { p50: a.submit_to_result_ms.p50, p99: a.submit_to_result_ms.p99 },
        orchestrator_cpu_ms_per_trial: a.orchestrator_cpu_ms_per_trial,
        servers_cpu_ms_per_trial: serverMs === null ? null : Math.round(serverMs * 100) / 100,
        other_load_pct: a.other_load_pct,
        detail: a,
      });
      o.log(`R${replicas}: ${a.trials_per_s} trials/s, dispatch p99 ${a.latency_ms.p99} ms`);
    } finally {
      await nc.close().catch(() => undefined);
      await cluster.stop();
      forget();
    }
  }
  return {
    servers: 3,
    trials_per_row: o.trials,
    workers: { processes: o.processes, threads_per_process: o.concurrency },
    rows,
  };
}
