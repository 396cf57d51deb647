/**
 * Scenario (a): many zero-sleep `synthetic` trials (1 epoch, sleep_ms 0) through a real nats-server
 * and `hpo worker` processes: trials per second end to end, and dispatch latency. Runs, on one warm
 * fleet: an idle-latency probe (one trial at a time), the transport alone (direct loop, no runner or
 * store), then the product path (SearchRunner + SqliteStore), which gives the headline figures.
 */
import { NatsTransport } from '../../orchestrator/transport/nats/index.js';
import type { NatsConnection } from '../../worker/nats/index.js';
import { runDirect } from './direct-run.js';
import { withWarmFleet } from './fleet-session.js';
import { CpuMeter, cpuShares } from './process-cpu.js';
import { runSearch } from './search-run.js';
import { type Distribution, distribution, round } from '../stats.js';
import { TimedTransport } from './timed-transport.js';

export const LATENCY_DEFINITION =
  "from the orchestrator's NatsTransport.submit() call (SearchRunner dispatch, wall clock) to the moment " +
  "the worker's pool thread started the trial (ResultEvent.started_at, same machine's clock, 1 ms " +
  'resolution); includes the publish to the JetStream work queue, the time queued behind the in-flight ' +
  'window, the pull by a worker, and the hand-off to a Piscina thread';

export interface ThroughputOptions {
  nc: NatsConnection;
  url: string;
  natsPid: number;
  /** More server processes to meter (a cluster's other nodes), by name. */
  otherServerPids?: [string, number][];
  processes: number;
  concurrency: number;
  trials: number;
  /** Zero-sleep trials run (untimed) before measuring, so the JIT is warm. */
  warmTrials: number;
  /** Trials of the one-at-a-time latency probe. */
  probeTrials: number;
  maxInFlight: number;
  storePath: string;
  /** CPU-profile the worker processes into this folder. */
  profileDir?: string;
  /** Also time the transport alone (direct loop). */
  direct: boolean;
  /**
   * Names this run's workers (`<tag><i>`) and experiments (`bench-<tag>-...`), distinct per run on one
   * nats-server (default 'a').
   */
  tag?: string;
  log: (line: string) => void;
}

export interface ThroughputReport {
  trials: number;
  seconds: number;
  trials_per_s: number;
  latency_ms: { p50: number; p99: number };
  latency_definition: string;
  failed: number;
  latency_detail_ms: Distribution;
  submit_to_result_ms: Distribution;
  idle_latency_ms: Distribution & { trials: number; definition: string };
  workers: { processes: number; threads_per_process: number; slots: number };
  max_in_flight: number;
  store: string;
  orchestrator_cpu_ms_per_trial: number;
  /** CPU ms per process over the SearchRunner run (`other processes`: load not from the bench). */
  cpu_ms: Record<string, number | null>;
  /** The bench's processes' CPU over the run, as a share of all the machine's cores. */
  cpu_utilization_pct: number;
  /** Other processes' CPU over the run (someone else's load on the machine), same scale. */
  other_load_pct: number | null;
  transport_only?: {
    trials: number;
    seconds: number;
    trials_per_s: number;
    orchestrator_cpu_ms_per_trial: number;
    cpu_ms: Record<string, number | null>;
  };
}

export async function benchThroughput(o: ThroughputOptions, cores: number): Promise<ThroughputReport> {
  const run = { trials: o.trials, epochs: 1, sleepMs: 0 };
  const tag = o.tag ?? 'a';
  return withWarmFleet(
    {
      nc: o.nc,
      url: o.url,
      processes: o.processes,
      concurrency: o.concurrency,
      namePrefix: tag,
      profileDir: o.profileDir,
      log: o.log,
    },
    async (fleet) => {
      const pids = new Map([['nats-server', o.natsPid], ...(o.otherServerPids ?? []), ...fleet.pids()]);

      // JIT warm-up of the zero-sleep path (untimed).
      if (o.warmTrials > 0) {
        const t = new NatsTransport(o.nc, { maxInFlight: o.maxInFlight, closeConnection: false });
        try {
          const w = await runDirect(t, `bench-${tag}-jit`, { ...run, trials: o.warmTrials });
          o.log(`JIT warm-up: ${w.trials} trials in ${w.seconds.toFixed(2)} s`);
        } finally {
          await t.close();
        }
      }

      // Dispatch latency with nothing queued: one trial at a time.
      const probe = new TimedTransport(new NatsTransport(o.nc, { maxInFlight: 1, closeConnection: false }));
      try {
        await runDirect(probe, `bench-${tag}-probe`, { ...run, trials: o.probeTrials });
      } finally {
        await probe.close();
      }
      const idle = distribution(probe.timings.map((t) => t.dispatchMs));
      o.log(`idle dispatch latency (one at a time): p50 ${idle.p50} ms, p99 ${idle.p99} ms`);

      let transportOnly: ThroughputReport['transport_only'];
      if (o.direct) {
        const t = new NatsTransport(o.nc, { maxInFlight: o.maxInFlight, closeConnection: false });
        const meter = new CpuMeter(pids);
        let d;
        try {
          d = await runDirect(t, `bench-${tag}-direct`, run);
        } finally {
          await t.close();
        }
        if (d.failed > 0) throw new Error(`${d.failed} trials failed: ${d.firstError}`);
        transportOnly = {
          trials: d.trials,
          seconds: round(d.seconds),
          trials_per_s: round(d.trials / d.seconds, 1),
          orchestrator_cpu_ms_per_trial: round(d.cpuMs / d.trials),
          cpu_ms: meter.since(),
        };
        o.log(`transport alone: ${d.trials} trials in ${d.seconds.toFixed(2)} s`);
      }

      const meter = new CpuMeter(pids);
      const r = await runSearch({
        nc: o.nc,
        experiment: `bench-${tag}-search`,
        run,
        storePath: o.storePath,
        maxInFlight: o.maxInFlight,
        log: o.log,
      });
      const cpu = meter.since();
      o.log(`SearchRunner: ${r.trials} trials in ${r.seconds.toFixed(2)} s`);
      const dispatch = distribution(r.timings.map((t) => t.dispatchMs));
      const shares = cpuShares(cpu, cores, r.seconds);
      return {
        trials: r.trials,
        seconds: round(r.seconds),
        trials_per_s: round(r.trials / r.seconds, 1),
        latency_ms: { p50: dispatch.p50, p99: dispatch.p99 },
        latency_definition: LATENCY_DEFINITION,
        failed: r.failed,
        latency_detail_ms: dispatch,
        submit_to_result_ms: distribution(r.timings.map((t) => t.roundTripMs)),
        idle_latency_ms: {
          ...idle,
          trials: probe.timings.length,
          definition: 'the same measure with one trial in flight at a time (no queueing)',
        },
        workers: { processes: o.processes, threads_per_process: o.concurrency, slots: fleet.slots },
        max_in_flight: o.maxInFlight,
        store: o.storePath === ':memory:' ? 'sqlite in memory' : 'sqlite temp file (WAL)',
        orchestrator_cpu_ms_per_trial: round(r.cpuMs / r.trials),
        cpu_ms: cpu,
        cpu_utilization_pct: shares.bench_pct,
        other_load_pct: shares.other_pct,
        ...(transportOnly ? { transport_only: transportOnly } : {}),
      };
    },
  );
}
