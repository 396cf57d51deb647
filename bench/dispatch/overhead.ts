/**
 * Scenario (b): trials of a fixed length (1 epoch of sleep_ms) filling a fleet's slots through the
 * product path (SearchRunner + SqliteStore + NatsTransport + `hpo worker` processes): wall time against
 * the theoretical minimum trials × trial_seconds / slots, and the orchestrator's CPU per trial.
 */
import type { NatsConnection } from '../../worker/nats/index.js';
import { withWarmFleet } from './fleet-session.js';
import { CpuMeter, cpuShares } from './process-cpu.js';
import { runSearch } from './search-run.js';
import { type Distribution, distribution, mean, round } from '../stats.js';

export interface OverheadOptions {
  nc: NatsConnection;
  url: string;
  natsPid: number;
  processes: number;
  concurrency: number;
  trials: number;
  trialMs: number;
  maxInFlight: number;
  storePath: string;
  /** CPU-profile the worker processes into this folder. */
  profileDir?: string;
  log: (line: string) => void;
}

export interface OverheadReport {
  trials: number;
  slots: number;
  trial_seconds: number;
  wall_s: number;
  min_s: number;
  overhead_pct: number;
  orchestrator_cpu_ms_per_trial: number;
  failed: number;
  /** ceil(trials / slots) × trial_seconds: the minimum with whole trials (the last wave is partial). */
  whole_waves_min_s: number;
  overhead_vs_whole_waves_pct: number;
  /** Trial run time as the pool thread measured it (ended_at − started_at): the task's own overshoot. */
  thread_run_ms: { mean: number; p99: number };
  /** Sum of thread run times / (slots × wall). */
  slot_utilization_pct: number;
  dispatch_latency_ms: Distribution;
  workers: { processes: number; threads_per_process: number };
  max_in_flight: number;
  store: string;
  /** CPU ms per process over the run (`other processes`: load not from the bench). */
  cpu_ms: Record<string, number | null>;
  /** The bench's processes' CPU over the run, as a share of all the machine's cores. */
  cpu_utilization_pct: number;
  /** Other processes' CPU over the run (someone else's load on the machine), same scale. */
  other_load_pct: number | null;
}

export async function benchOverhead(o: OverheadOptions, cores: number): Promise<OverheadReport> {
  return withWarmFleet(
    {
      nc: o.nc,
      url: o.url,
      processes: o.processes,
      concurrency: o.concurrency,
      namePrefix: 'b',
      profileDir: o.profileDir,
      log: o.log,
    },
    async (fleet) => {
      const meter = new CpuMeter(new Map([['nats-server', o.natsPid], ...fleet.pids()]));
      const r = await runSearch({
        nc: o.nc,
        experiment: 'bench-b-search',
        run: { trials: o.trials, epochs: 1, sleepMs: o.trialMs },
        storePath: o.storePath,
        maxInFlight: o.maxInFlight,
        log: o.log,
      });
      const cpu = meter.since();
      const shares = cpuShares(cpu, cores, r.seconds);
      o.log(`SearchRunner: ${r.trials} trials of ${o.trialMs} ms in ${r.seconds.toFixed(2)} s`);
      const trialSeconds = o.trialMs / 1000;
      const minS = (o.trials * trialSeconds) / fleet.slots;
      const wavesMinS = Math.ceil(o.trials / fleet.slots) * trialSeconds;
      const runMs = r.timings.map((t) => t.runMs);
      const busyMs = runMs.reduce((s, v) => s + v, 0);
      return {
        trials: r.trials,
        slots: fleet.slots,
        trial_seconds: trialSeconds,
        wall_s: round(r.seconds),
        min_s: round(minS),
        overhead_pct: round((r.seconds / minS - 1) * 100, 2),
        orchestrator_cpu_ms_per_trial: round(r.cpuMs / r.trials),
        failed: r.failed,
        whole_waves_min_s: round(wavesMinS),
        overhead_vs_whole_waves_pct: round((r.seconds / wavesMinS - 1) * 100, 2),
        thread_run_ms: { mean: round(mean(runMs), 1), p99: distribution(runMs).p99 },
        slot_utilization_pct: round((100 * busyMs) / (fleet.slots * r.seconds * 1000), 1),
        dispatch_latency_ms: distribution(r.timings.map((t) => t.dispatchMs)),
        workers: { processes: o.processes, threads_per_process: o.concurrency },
        max_in_flight: o.maxInFlight,
        store: o.storePath === ':memory:' ? 'sqlite in memory' : 'sqlite temp file (WAL)',
        cpu_ms: cpu,
        cpu_utilization_pct: shares.bench_pct,
        other_load_pct: shares.other_pct,
      };
    },
  );
}
