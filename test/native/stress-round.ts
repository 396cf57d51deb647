/** One round of the native pool stress run: a pool, its trials in two waves, then the pool closed. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResultEvent } from '../../shared/protocol/index.js';
import type { TrialPool } from '../../worker/pool/index.js';
import type { PlannedTrial } from './stress-plan.js';

export interface RoundStats {
  threads: number;
  trials: number;
  /** Most trials running in threads at once (from the results' start and end times). */
  max_concurrent: number;
  seconds: number;
}

/** Longer than the pool's threadIdleMs: every thread idles out between the waves. */
const PAUSE_MS = 600;

/** Runs one trial as a worker would: a decision per epoch, an abort for the planned cancels. */
async function runOne(pool: TrialPool, plan: PlannedTrial): Promise<ResultEvent | Error> {
  const controller = new AbortController();
  const timer = plan.abortMs === undefined ? undefined : setTimeout(() => controller.abort(), plan.abortMs);
  try {
    return await pool.run(plan.spec, {
      signal: controller.signal,
      onEpoch: async () => (plan.kind === 'stop' ? 'stop' : 'continue'),
    });
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  } finally {
    clearTimeout(timer);
  }
}

/** Most intervals overlapping at one instant. */
function maxOverlap(spans: [number, number][]): number {
  const edges = spans.flatMap(([a, b]) => [
    [a, 1],
    [b, -1],
  ]);
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d));
  return most;
}

/** Runs `plans` with at most pool.slots in flight (as the worker does), in two waves; closes the pool. */
export async function runRound(
  pool: TrialPool,
  plans: PlannedTrial[],
  threadsSeen: Set<number>,
  onEnd: (plan: PlannedTrial, got: ResultEvent | Error) => void,
): Promise<RoundStats> {
  const started = performance.now();
  const spans: [number, number][] = [];
  pool.addObserver({ onEpoch: (_spec, usage) => threadsSeen.add(usage.thread) });
  const half = Math.ceil(plans.length / 2);
  try {
    for (const wave of [plans.slice(0, half), plans.slice(half)]) {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < wave.length) {
          const plan = wave[next++];
          const got = await runOne(pool, plan);
          if (!(got instanceof Error)) spans.push([got.started_at, got.ended_at]);
          onEnd(plan, got);
        }
      };
      await Promise.all(Array.from({ length: pool.slots }, lane));
      await sleep(PAUSE_MS);
    }
  } finally {
    await pool.close();
  }
  return {
    threads: pool.slots,
    trials: plans.length,
    max_concurrent: maxOverlap(spans),
    seconds: (performance.now() - started) / 1000,
  };
}
