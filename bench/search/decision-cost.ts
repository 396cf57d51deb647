/**
 * For bench:search: the cost of one decision of each sampler and scheduler with 1,000 trials known
 * (1,000 finished trials of the synthetic objective, 4 running): TPE's and random's next(), ASHA's and
 * the median rule's decide(). Mean CPU ms per call over `calls` calls.
 */
import type { TrialParams } from '../../shared/protocol/index.js';
import { syntheticValAcc } from '../../worker/tasks/synthetic-task.js';
import { AshaScheduler, MedianScheduler } from '../../orchestrator/schedulers/index.js';
import type { SearchSpace } from '../../orchestrator/search-space/types.js';
import {
  type FinishedProposal,
  RandomStrategy,
  type Strategy,
  TpeStrategy,
} from '../../orchestrator/strategies/index.js';

export interface DecisionCost {
  trials: number;
  /** Mean ms per call. */
  random_next_ms: number;
  tpe_next_ms: number;
  asha_decide_ms: number;
  median_decide_ms: number;
}

/** CPU ms of this process per call (not wall time: the machine may be shared with other jobs). */
function timeMs(calls: number, f: (i: number) => void): number {
  for (let i = 0; i < Math.min(20, calls); i++) f(i); // warm up (JIT)
  const t0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) f(i);
  const cpu = process.cpuUsage(t0);
  return (cpu.user + cpu.system) / 1000 / calls;
}

export function measureDecisionCost(
  space: SearchSpace,
  epochs: number,
  trials = 1000,
  calls = 50,
): DecisionCost {
  const random = new RandomStrategy(space);
  const seen: TrialParams[] = [];
  const finished: FinishedProposal[] = [];
  const histories: Record<string, number>[][] = [];
  for (let k = 0; k < trials + 4; k++) {
    const params = random.next({ proposed: k, seen, finished })!;
    seen.push(params);
    if (k >= trials) continue; // the last 4 are running
    const history = Array.from({ length: epochs }, (_, e) => ({
      val_acc: syntheticValAcc(params, k, e + 1),
    }));
    histories.push(history);
    finished.push({ params, value: history[epochs - 1].val_acc, state: 'completed', epochs });
  }
  const next = (s: Strategy) => (i: number) => s.next({ proposed: seen.length + i, seen, finished });

  const asha = new AshaScheduler(space.metric, { type: 'hyperband', min_iter: 1, eta: 3, max_iter: epochs });
  const median = new MedianScheduler(space.metric, { type: 'median' });
  histories.forEach((history, i) => {
    const trial = { trial_id: `t${i}`, params: seen[i], history, index: i, state: 'completed' as const };
    asha.trialFinished(trial);
    median.trialFinished(trial);
  });
  const probe = (i: number) => ({
    trial_id: `p${i}`,
    params: seen[i % trials],
    history: histories[i % trials],
    index: i,
  });
  const rungs = [1, 3, 9];
  return {
    trials,
    random_next_ms: timeMs(calls, next(random)),
    tpe_next_ms: timeMs(calls, next(new TpeStrategy(space))),
    asha_decide_ms: timeMs(calls * 20, (i) => asha.decide(probe(i), rungs[i % 3])),
    median_decide_ms: timeMs(calls * 20, (i) => median.decide(probe(i), 2 + (i % (epochs - 2)))),
  };
}
