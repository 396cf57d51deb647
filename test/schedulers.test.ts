import assert from 'node:assert/strict';
import type { FinalState } from '../shared/protocol/index.js';
import {
  AshaScheduler,
  bracketRungs,
  createScheduler,
  FifoScheduler,
  hyperbandSettings,
  MedianScheduler,
  rungReached,
  ScoreTable,
  trialRung,
  type TrialSnapshot,
} from '../orchestrator/schedulers/index.js';
import type { Metric } from '../orchestrator/search-space/index.js';

const MAX: Metric = { name: 'val_acc', goal: 'maximize' };
const MIN: Metric = { name: 'val_loss', goal: 'minimize' };

/** A snapshot whose objective is `values[e]` at epoch e + 1. */
function snap(id: string, values: number[], index?: number, name = 'val_acc'): TrialSnapshot {
  return {
    trial_id: id,
    params: {},
    history: values.map((v) => ({ [name]: v, other: 1 - v })),
    ...(index === undefined ? {} : { index }),
  };
}

/** Reports trial `id` at `epoch` with `value` as its objective there (earlier epochs filled with 0). */
function at(s: AshaScheduler | MedianScheduler, id: string, epoch: number, value: number, index = 0) {
  const values = new Array<number>(epoch).fill(0);
  values[epoch - 1] = value;
  return s.decide(snap(id, values, index), epoch);
}

describe('schedulers', () => {
  describe('ASHA rungs and brackets', () => {
    it('rungs at min_iter * eta^k strictly below max_iter', () => {
      const s = hyperbandSettings({ type: 'hyperband', min_iter: 1, eta: 3, max_iter: 27 });
      assert.deepEqual(bracketRungs(s, 0), [1, 3, 9]);
      const two = hyperbandSettings({ type: 'hyperband', min_iter: 2, eta: 2, max_iter: 20 });
      assert.deepEqual(bracketRungs(two, 0), [2, 4, 8, 16]);
    });

    it('bracket b starts at min_iter * eta^b; s brackets; eta defaults to 3', () => {
      const s = hyperbandSettings({ type: 'hyperband', min_iter: 1, max_iter: 27, s: 3 });
      assert.equal(s.eta, 3);
      assert.equal(s.brackets, 3);
      assert.deepEqual(bracketRungs(s, 1), [3, 9]);
      assert.deepEqual(bracketRungs(s, 2), [9]);
    });

    it('without min_iter, the smallest rung is max_iter / eta^k >= 1', () => {
      assert.equal(hyperbandSettings({ type: 'hyperband', max_iter: 27 }).minIter, 1);
      assert.equal(hyperbandSettings({ type: 'hyperband', max_iter: 20, eta: 2 }).minIter, 1);
      assert.equal(hyperbandSettings({ type: 'hyperband', max_iter: 10, eta: 4 }).minIter, 2);
    });

    it('without max_iter rungs go on (the trial ends at its own epochs)', () => {
      const s = hyperbandSettings({ type: 'hyperband', min_iter: 2, eta: 2 });
      assert.deepEqual(bracketRungs(s, 0).slice(0, 5), [2, 4, 8, 16, 32]);
    });

    it('the rung a trial reached, from its epochs (and its bracket by index)', () => {
      const s = hyperbandSettings({ type: 'hyperband', min_iter: 1, eta: 3, max_iter: 27, s: 2 });
      assert.equal(rungReached(s, 0, 0), null);
      assert.equal(rungReached(s, 0, 1), 1);
      assert.equal(rungReached(s, 0, 8), 3);
      assert.equal(rungReached(s, 0, 27), 27);
      assert.equal(rungReached(s, 1, 2), null);
      const space = { early_terminate: { type: 'hyperband' as const, min_iter: 1, max_iter: 27, s: 2 } };
      assert.equal(trialRung(space, { index: 4, epochs: 3 }), 3);
      assert.equal(trialRung(space, { index: 5, epochs: 1 }), null, 'bracket 1 starts at 3');
      assert.equal(trialRung({ early_terminate: { type: 'median' } }, { index: 0, epochs: 3 }), null);
    });
  });

  describe('ASHA promotion rule', () => {
    const asha = (eta = 3, extra: object = {}) =>
      new AshaScheduler(MAX, { type: 'hyperband', min_iter: 1, eta, max_iter: 27, ...extra });

    it('continues past a rung only in the top max(1, floor(n / eta)) of results recorded there', () => {
      const s = asha(3);
      assert.equal(at(s, 'a', 1, 0.5), 'continue', 'n=1: the only result is the best');
      assert.equal(at(s, 'b', 1, 0.4), 'stop', 'n=2, top 1 is 0.5');
      assert.equal(at(s, 'c', 1, 0.6), 'continue', 'n=3, the new best');
      assert.equal(at(s, 'd', 1, 0.55), 'stop', 'n=4, top 1 is 0.6');
      assert.equal(at(s, 'e', 1, 0.3), 'stop', 'n=5');
      // n=6: top floor(6/3) = 2 are 0.6 and 0.55: 0.56 is second best now.
      assert.equal(at(s, 'f', 1, 0.56), 'continue', 'n=6, second best of 6');
      assert.equal(at(s, 'g', 1, 0.55), 'stop', 'n=7: top 2 are 0.6, 0.56');
      assert.equal(s.recorded(0, 1), 7);
    });

    it('eta sets the fraction: with eta 2 the top half continue; ties continue', () => {
      const s = asha(2);
      assert.equal(at(s, 'a', 1, 0.5), 'continue');
      assert.equal(at(s, 'b', 1, 0.5), 'continue', 'n=2, top 1: a tie with the best');
      assert.equal(at(s, 'c', 1, 0.7), 'continue');
      assert.equal(at(s, 'd', 1, 0.6), 'continue', 'n=4: top 2 are 0.7 and 0.6');
      assert.equal(at(s, 'e', 1, 0.55), 'stop', 'n=5: top 2 are 0.7 and 0.6');
    });

    it('decides only at rungs; each rung ranks its own results; stops at max_iter', () => {
      const s = asha(3);
      at(s, 'a', 1, 0.9);
      assert.equal(at(s, 'b', 2, 0.1), 'continue', 'epoch 2 is no rung');
      assert.equal(at(s, 'b', 3, 0.1), 'continue', 'first result at rung 3');
      assert.equal(at(s, 'c', 3, 0.05), 'stop');
      assert.equal(at(s, 'a', 26, 0.1), 'continue');
      assert.equal(at(s, 'a', 27, 0.99), 'stop', 'max_iter');
    });

    it('minimize: lower is better', () => {
      const s = new AshaScheduler(MIN, { type: 'hyperband', min_iter: 1, eta: 3 });
      const rep = (id: string, v: number) => s.decide(snap(id, [v], 0, 'val_loss'), 1);
      assert.equal(rep('a', 1.0), 'continue');
      assert.equal(rep('b', 2.0), 'stop');
      assert.equal(rep('c', 0.5), 'continue');
    });

    it('uses only the objective: other metrics in the epoch do not matter', () => {
      const s = asha(3);
      at(s, 'a', 1, 0.5);
      // snap() sets other = 1 - value: b's "other" is better, its val_acc worse.
      assert.equal(s.decide(snap('b', [0.2]), 1), 'stop');
    });

    it('a non-finite objective at a rung stops the trial', () => {
      const s = asha(3);
      assert.equal(at(s, 'a', 1, NaN), 'stop');
      assert.equal(s.decide({ trial_id: 'b', params: {}, history: [{ loss: 1 }], index: 0 }, 1), 'stop');
    });

    it('brackets rank separately: trial i runs in bracket i mod s', () => {
      const s = asha(3, { s: 2 });
      assert.deepEqual(s.rungs(1), [3, 9]);
      assert.equal(at(s, 'a', 1, 0.9, 0), 'continue');
      assert.equal(at(s, 'b', 1, 0.1, 1), 'continue', 'bracket 1 has no rung at epoch 1');
      assert.equal(at(s, 'b', 3, 0.1, 1), 'continue', "first result at bracket 1's rung 3");
      assert.equal(at(s, 'c', 1, 0.5, 2), 'stop', 'bracket 0, below a');
      assert.equal(at(s, 'a', 3, 0.2, 0), 'continue', "bracket 0's rung 3 is separate from bracket 1's");
      assert.equal(s.recorded(1, 3), 1);
      assert.equal(s.recorded(0, 3), 1);
    });

    it('re-reporting a trial (a re-run after resume) replaces its result instead of adding one', () => {
      const s = asha(3);
      at(s, 'a', 1, 0.5);
      at(s, 'a', 1, 0.5);
      assert.equal(s.recorded(0, 1), 1);
    });

    it('trialFinished rebuilds rung results from recorded histories (resume)', () => {
      const live = asha(3);
      const restored = asha(3);
      const finished: [string, number[], FinalState][] = [
        ['a', [0.5, 0.6, 0.7], 'stopped'],
        ['b', [0.4], 'stopped'],
        ['c', [0.6, 0.6, 0.65, 0.7], 'completed'],
        ['d', [0.3], 'stopped'],
      ];
      for (const [id, values, state] of finished) {
        values.forEach((_, e) => live.decide(snap(id, values.slice(0, e + 1), 0), e + 1));
        restored.trialFinished({ ...snap(id, values, 0), state });
      }
      assert.equal(restored.recorded(0, 1), 4);
      assert.equal(restored.recorded(0, 3), 2);
      for (const [v, e] of [
        [0.55, 1],
        [0.59, 1],
        [0.68, 3],
        [0.71, 3],
      ]) {
        assert.equal(at(restored, `x${v}`, e, v), at(live, `x${v}`, e, v), `value ${v} at epoch ${e}`);
      }
    });
  });

  describe('median stopping rule', () => {
    const finish = (s: MedianScheduler, id: string, values: number[], state: FinalState = 'completed') =>
      s.trialFinished({ ...snap(id, values), state });

    it('stops a trial whose best so far is below the median of finished trials at that epoch', () => {
      const s = new MedianScheduler(MAX, { type: 'median', grace_epochs: 1, min_trials: 3 });
      finish(s, 'a', [0.2, 0.4, 0.6]);
      finish(s, 'b', [0.3, 0.5, 0.7]);
      finish(s, 'c', [0.1, 0.45, 0.9]);
      // Medians: epoch 2: 0.45, epoch 3: 0.7.
      assert.equal(s.decide(snap('x', [0.1, 0.44]), 2), 'stop');
      assert.equal(s.decide(snap('x', [0.1, 0.45]), 2), 'continue', 'equal to the median');
      assert.equal(s.decide(snap('y', [0.1, 0.5, 0.69]), 3), 'stop');
      // Best so far, not the last value: 0.8 at epoch 2 beats the median 0.7 at epoch 3.
      assert.equal(s.decide(snap('z', [0.1, 0.8, 0.2]), 3), 'continue');
    });

    it('never stops within the grace period', () => {
      const s = new MedianScheduler(MAX, { type: 'median', grace_epochs: 2, min_trials: 1 });
      finish(s, 'a', [0.9, 0.9, 0.9]);
      assert.equal(s.decide(snap('x', [0.1]), 1), 'continue');
      assert.equal(s.decide(snap('x', [0.1, 0.1]), 2), 'continue');
      assert.equal(s.decide(snap('x', [0.1, 0.1, 0.1]), 3), 'stop');
    });

    it('needs min_trials finished trials at the epoch; failed and running trials do not count', () => {
      const s = new MedianScheduler(MAX, { type: 'median', grace_epochs: 0, min_trials: 2 });
      finish(s, 'a', [0.9, 0.9]);
      finish(s, 'f', [0.9, 0.9], 'failed');
      // A running trial's decide() call never enters the medians.
      s.decide(snap('r', [0.95, 0.95]), 2);
      assert.equal(s.decide(snap('x', [0.1]), 1), 'continue', 'one finished trial at epoch 1');
      finish(s, 'b', [0.8], 'stopped');
      assert.equal(s.decide(snap('x', [0.1]), 1), 'stop', 'a and b (stopped ones count)');
      assert.equal(s.decide(snap('x', [0.1, 0.1]), 2), 'continue', 'only a reached epoch 2');
    });

    it('minimize: stops a trial above the median; even counts take the middle mean', () => {
      const s = new MedianScheduler(MIN, { type: 'median', grace_epochs: 0, min_trials: 2 });
      const fin = (id: string, v: number) =>
        s.trialFinished({ ...snap(id, [v], undefined, 'val_loss'), state: 'completed' });
      fin('a', 1.0);
      fin('b', 2.0);
      const loss = (v: number) => s.decide(snap('x', [v], undefined, 'val_loss'), 1);
      assert.equal(loss(1.6), 'stop', 'median 1.5');
      assert.equal(loss(1.5), 'continue');
      assert.equal(loss(0.2), 'continue');
    });

    it('defaults: grace 1 epoch, 3 trials', () => {
      const s = new MedianScheduler(MAX);
      assert.equal(s.graceEpochs, 1);
      assert.equal(s.minTrials, 3);
    });
  });

  describe('createScheduler', () => {
    it('picks the scheduler from early_terminate', () => {
      assert.ok(createScheduler({ metric: MAX }) instanceof FifoScheduler);
      assert.ok(
        createScheduler({ metric: MAX, early_terminate: { type: 'hyperband', min_iter: 1 } }) instanceof
          AshaScheduler,
      );
      assert.ok(
        createScheduler({ metric: MAX, early_terminate: { type: 'median' } }) instanceof MedianScheduler,
      );
    });
  });

  describe('ScoreTable', () => {
    it('k-th best and median, with replacement by trial id', () => {
      const t = new ScoreTable();
      for (const [id, v] of [
        ['a', 3],
        ['b', 1],
        ['c', 2],
      ] as const)
        t.record(id, v);
      assert.equal(t.kthBest(1), 3);
      assert.equal(t.median(), 2);
      t.record('a', 0);
      assert.equal(t.size, 3);
      assert.equal(t.kthBest(1), 2);
      assert.equal(t.median(), 1);
      t.record('d', -Infinity);
      assert.equal(t.median(), 0.5);
    });
  });
});
