/**
 * One experiment through the product path: a SearchRunner (random strategy, FIFO scheduler) with a
 * SqliteStore (temp file, WAL, as `hpo search` uses; or in memory) over a NatsTransport, timed per
 * trial by a TimedTransport wrapped around the NatsTransport.
 */
import { SearchRunner } from '../../orchestrator/core/index.js';
import { FifoScheduler } from '../../orchestrator/schedulers/index.js';
import { SqliteStore } from '../../orchestrator/store/index.js';
import { createStrategy } from '../../orchestrator/strategies/index.js';
import { NatsTransport, type NatsTransportOptions } from '../../orchestrator/transport/nats/index.js';
import type { NatsConnection } from '../../worker/nats/index.js';
import { type SyntheticRun, syntheticSource, syntheticSpace } from './synthetic-space.js';
import { TimedTransport, type TrialTiming } from './timed-transport.js';

export interface SearchRunOptions {
  nc: NatsConnection;
  experiment: string;
  run: SyntheticRun;
  /** SQLite file (':memory:' for an in-memory store). */
  storePath: string;
  maxInFlight: number;
  log: (line: string) => void;
}

export interface SearchRunResult {
  trials: number;
  completed: number;
  failed: number;
  /** SearchRunner.run() from call to return (includes the transport's start). */
  seconds: number;
  /** This process's CPU ms over run(). */
  cpuMs: number;
  timings: TrialTiming[];
  transportStats: ReturnType<NatsTransport['stats']>;
}

export async function runSearch(options: SearchRunOptions): Promise<SearchRunResult> {
  const { nc, experiment, run } = options;
  const store = SqliteStore.open(options.storePath);
  const space = syntheticSpace(run);
  const exp = await store.createExperiment(experiment, space, syntheticSource(run));
  const nats = new NatsTransport(nc, {
    experiments: [{ name: experiment, id: exp.bus_id, secret: exp.bus_secret }],
    maxInFlight: options.maxInFlight,
    closeConnection: false,
  } satisfies NatsTransportOptions);
  const transport = new TimedTransport(nats);
  try {
    const runner = new SearchRunner({
      store,
      transport,
      strategy: createStrategy(space),
      scheduler: new FifoScheduler(),
      experiment,
      total: run.trials,
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const outcome = await runner.run();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const p = outcome.progress;
    return {
      trials: p.done,
      completed: p.completed + p.stopped,
      failed: p.failed,
      seconds,
      cpuMs: (cpu.user + cpu.system) / 1000,
      timings: transport.timings,
      transportStats: nats.stats(),
    };
  } finally {
    await transport.close();
    await store.close();
  }
}
