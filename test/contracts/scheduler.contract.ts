/**
 * Behaviour every Scheduler must have (orchestrator/schedulers/scheduler.ts). A test file calls
 * `schedulerContract(name, factory)` once per implementation; the factory builds a fresh scheduler for a
 * metric, so the suite can compare a live scheduler with one rebuilt on resume.
 */
import assert from 'node:assert/strict';

import type { Decision, FinalState } from '../../shared/protocol/index.js';
import type { Metric } from '../../orchestrator/search-space/index.js';
import type { FinishedTrial, Scheduler, TrialSnapshot } from '../../orchestrator/schedulers/index.js';

/** Epochs each trial of the contract's experiments asks for. */
export const CONTRACT_EPOCHS = 12;

/** A trial of a simulated experiment: its objective at each epoch and how it ends if never stopped. */
interface SimTrial {
  id: string;
  index: number;
  curve: number[];
  fails: boolean;
}

/** Twenty trials with noisy learning curves (deterministic), every seventh failing after epoch 5. */
function trials(count = 20): SimTrial[] {
  return Array.from({ length: count }, (_, i) => {
    const ceiling = 0.5 + ((i * 37) % 20) / 40;
    const curve = Array.from({ length: CONTRACT_EPOCHS }, (_, e) => {
      const wobble = (((i + 3) * (e + 5) * 7919) % 100) / 2000;
      return ceiling * (1 - Math.exp(-(e + 1) / 3)) + wobble;
    });
    return { id: `t${String(i).padStart(4, '0')}`, index: i, curve, fails: i % 7 === 6 };
  });
}

/** The metrics a trial reports at epoch e (1-based): the objective, and others a scheduler must ignore. */
function metricsAt(metric: Metric, trial: SimTrial, e: number, noise: number): Record<string, number> {
  const v = trial.curve[e - 1];
  return {
    [metric.name]: metric.goal === 'maximize' ? v : -v,
    train_loss: noise * (e + trial.index),
    val_other: noise - v,
  };
}

/** What happened in one run: every decision in order, and the trials as they finished. */
interface RunLog {
  decisions: Decision[];
  finished: FinishedTrial[];
}

/**
 * Runs `sims` one after another through `scheduler` as SearchRunner does: decide after each epoch (the
 * trials running now as `all`) until stop, failure or the last epoch, then trialFinished.
 */
function drive(scheduler: Scheduler, metric: Metric, sims: SimTrial[], noise = 0): RunLog {
  const log: RunLog = { decisions: [], finished: [] };
  for (const sim of sims) {
    const history: Record<string, number>[] = [];
    let state: FinalState = 'completed';
    for (let e = 1; e <= CONTRACT_EPOCHS; e++) {
      history.push(metricsAt(metric, sim, e, noise));
      if (sim.fails && e === 5) {
        state = 'failed';
        break;
      }
      const snap: TrialSnapshot = {
        trial_id: sim.id,
        params: { epochs: CONTRACT_EPOCHS },
        history: [...history],
        index: sim.index,
      };
      const decision = scheduler.decide(snap, e, [snap]);
      assert.ok(decision === 'continue' || decision === 'stop', `decision ${String(decision)}`);
      log.decisions.push(decision);
      if (decision === 'stop' && e < CONTRACT_EPOCHS) {
        state = 'stopped';
        break;
      }
    }
    const done: FinishedTrial = {
      trial_id: sim.id,
      params: { epochs: CONTRACT_EPOCHS },
      history,
      index: sim.index,
      state,
    };
    scheduler.trialFinished?.(done);
    log.finished.push(done);
  }
  return log;
}

const METRICS: Metric[] = [
  { name: 'val_acc', goal: 'maximize' },
  { name: 'val_loss', goal: 'minimize' },
];

/**
 * `factory(metric)`: a new scheduler of the implementation under test, deciding on `metric`. `stops`:
 * it stops some of the simulated trials (so the checks below compare real decisions, not only continues).
 */
export function schedulerContract(
  name: string,
  factory: (metric: Metric) => Scheduler,
  stops: boolean,
): void {
  describe(`Scheduler contract: ${name}`, () => {
    for (const metric of METRICS) {
      const sims = trials();

      it(`${metric.goal}: decisions are pure: the same history gives the same decisions`, () => {
        const a = drive(factory(metric), metric, sims);
        const b = drive(factory(metric), metric, sims);
        assert.deepEqual(b.decisions, a.decisions);
        if (factory(metric).neverStops) assert.ok(a.decisions.every((d) => d === 'continue'));
        assert.equal(a.decisions.includes('stop'), stops, stops ? 'stops some trials' : 'never stops');
      });

      it(`${metric.goal}: decides on the objective only (other metrics never change a decision)`, () => {
        const a = drive(factory(metric), metric, sims, 0);
        const b = drive(factory(metric), metric, sims, 0.37);
        assert.deepEqual(b.decisions, a.decisions);
      });

      it(`${metric.goal}: a scheduler rebuilt from the finished trials (hpo resume) decides as the live one`, () => {
        const live = factory(metric);
        drive(live, metric, sims.slice(0, 14));
        const resumed = factory(metric);
        // A resume replays every finished trial, in any order; trialFinished is idempotent per trial.
        const before = drive(factory(metric), metric, sims.slice(0, 14)).finished;
        for (const t of [...before].reverse()) resumed.trialFinished?.(t);
        for (const t of before) resumed.trialFinished?.(t);
        const rest = sims.slice(14);
        assert.deepEqual(drive(resumed, metric, rest).decisions, drive(live, metric, rest).decisions);
      });
    }

    it('maximize on v decides as minimize on -v', () => {
      const sims = trials();
      const max = drive(factory(METRICS[0]), METRICS[0], sims);
      const min = drive(factory(METRICS[1]), METRICS[1], sims);
      assert.deepEqual(min.decisions, max.decisions);
    });
  });
}
