/**
 * For bench:search, the NATS row: random against TPE on the synthetic task through the distributed
 * product path (SearchRunner, a temp SQLite store, a NatsTransport configured as `hpo search --nats`
 * does: bayes follows the fleet's slots, random queues ahead) with real `hpo worker` OS processes on a
 * throwaway nats-server. Same space, trials and seeds as the local row; each run's best-so-far curve is
 * read from the store (trials in the order they ended, budget in epochs run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchRunner } from '../../orchestrator/core/index.js';
import { createScheduler } from '../../orchestrator/schedulers/index.js';
import type { SearchSpace } from '../../orchestrator/search-space/types.js';
import { SqliteStore } from '../../orchestrator/store/index.js';
import { createStrategy } from '../../orchestrator/strategies/index.js';
import { NatsTransport } from '../../orchestrator/transport/nats/index.js';
import { connectNats } from '../../worker/nats/index.js';
import { startNatsServer } from '../nats-server.js';
import { WorkerFleet } from '../dispatch/worker-fleet.js';
import type { CurvePoint } from './budget-executor.js';
import { type CompareRun, type Variant, variantSpace } from './search-compare.js';

export interface NatsCompareOptions {
  base: SearchSpace;
  seeds: number[];
  /** Worker processes, and trial slots in each. */
  processes: number;
  concurrency: number;
  /** TPE with this fixed window of trials in flight instead of the fleet's slots (hpo before issue 25: 64). */
  fixedWindow?: number;
  log: (line: string) => void;
}

/** The best-so-far curve of a finished experiment, from its store (maximize or minimize). */
async function curveOf(
  store: SqliteStore,
  name: string,
  goal: 'maximize' | 'minimize',
): Promise<CurvePoint[]> {
  const ended = (await store.listTrials(name))
    .filter((t) => t.ended_at !== null)
    .sort((a, b) => a.ended_at! - b.ended_at! || a.index - b.index);
  const curve: CurvePoint[] = [];
  let budget = 0;
  let best: number | undefined;
  for (const t of ended) {
    budget += t.epochs;
    if (t.state !== 'failed' && t.value !== null)
      best = best === undefined || (goal === 'maximize' ? t.value > best : t.value < best) ? t.value : best;
    if (best !== undefined) curve.push({ budget, best });
  }
  return curve;
}

async function runOne(
  dir: string,
  nc: Awaited<ReturnType<typeof connectNats>>,
  space: SearchSpace,
  variant: Variant,
  seed: number,
  fixedWindow: number | undefined,
): Promise<CompareRun> {
  const name = `nats-${variant}-${seed}`;
  const store = SqliteStore.open(join(dir, `${name}.db`));
  try {
    const exp = await store.createExperiment(name, space, 'bench:search nats');
    const transport = new NatsTransport(nc, {
      experiments: [{ name, id: exp.bus_id, secret: exp.bus_secret }],
      ...(space.method !== 'bayes'
        ? {}
        : fixedWindow === undefined
          ? { fleet: {} }
          : { maxInFlight: fixedWindow }),
      closeConnection: false,
    });
    const t0 = performance.now();
    try {
      await new SearchRunner({
        store,
        transport,
        strategy: createStrategy(space),
        scheduler: createScheduler(space),
        experiment: name,
      }).run();
    } finally {
      await transport.close();
    }
    const curve = await curveOf(store, name, space.metric.goal);
    return {
      variant,
      seed,
      budget: curve.at(-1)?.budget ?? 0,
      trials: (await store.listTrials(name)).length,
      curve,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await store.close();
  }
}

/** Runs random and TPE (no early stopping) over NATS for every seed; returns the runs by variant. */
export async function compareOverNats(options: NatsCompareOptions): Promise<Map<Variant, CompareRun[]>> {
  const server = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'hpo-bench-search-nats-'));
  const fleet = WorkerFleet.spawn({
    url: server.url,
    processes: options.processes,
    concurrency: options.concurrency,
    namePrefix: 'bench-search-',
  });
  const onExit = () => {
    fleet.kill();
    server.kill();
  };
  process.once('exit', onExit);
  const runs = new Map<Variant, CompareRun[]>([
    ['random', []],
    ['tpe', []],
  ]);
  const nc = await connectNats({ servers: [server.url], name: 'hpo bench-search' });
  try {
    await fleet.waitAnnounced(nc, options.concurrency);
    for (const seed of options.seeds) {
      for (const variant of ['random', 'tpe'] as const) {
        const space = variantSpace(options.base, variant, { type: 'hyperband', min_iter: 1 }, seed);
        const run = await runOne(dir, nc, space, variant, seed, options.fixedWindow);
        fleet.checkAlive();
        runs.get(variant)!.push(run);
        options.log(
          `nats seed ${seed} ${variant}: ${run.trials} trials, ${run.budget} epochs, best ${run.curve.at(-1)?.best.toFixed(4)}, ${run.seconds.toFixed(1)} s`,
        );
      }
    }
  } finally {
    await nc.close();
    await fleet.stop();
    await server.stop();
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  }
  return runs;
}
