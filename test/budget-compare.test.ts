/**
 * Issue 25 item 3: with early stopping, trials end at different budgets. Parameter importance compares
 * them at one budget (atEqualBudget), and the leaderboard says when its rows mix budgets.
 */
import assert from 'node:assert/strict';
import { atEqualBudget, type FinishedTrial } from '../viewer/equal-budget.js';
import { budgetNote } from '../cli/leaderboard-budget.js';
import { renderLeaderboard } from '../cli/leaderboard-format.js';
import type { TrialRecord } from '../orchestrator/store/types.js';
import { syntheticSpace } from './helpers/space.js';

/** Trial i ran `epochs[i]` epochs; its objective at epoch e is 100 * i + e (its final value at its last). */
function finished(epochs: number[]): FinishedTrial[] {
  return epochs.map((e, i) => ({ trial_id: `t${i}`, params: { i }, value: 100 * i + e, epochs: e }));
}
const objectiveAt = (trials: FinishedTrial[]) => async (epoch: number) =>
  new Map(trials.filter((t) => t.epochs >= epoch).map((t) => [t.trial_id, 100 * Number(t.params.i) + epoch]));

describe('comparing trials at equal budget (issue 25 item 3)', () => {
  it('equal budgets: every trial with its own value, no note', async () => {
    const trials = finished([3, 3, 3]);
    const r = await atEqualBudget(trials, 8, 'val_acc', () => assert.fail('not read when budgets are equal'));
    assert.deepEqual(
      r.trials.map((t) => t.value),
      [3, 103, 203],
    );
    assert.equal(r.note, undefined);
  });

  it('mixed budgets: the largest epoch at least 8 trials reached, each trial valued there', async () => {
    // 2 trials ran 9 epochs, 6 ran 3, 5 were stopped at 1: 8 reached epoch 3.
    const trials = finished([9, 9, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1]);
    const r = await atEqualBudget(trials, 8, 'val_acc', objectiveAt(trials));
    assert.deepEqual(
      r.trials.map((t) => t.value),
      [3, 103, 203, 303, 403, 503, 603, 703],
    );
    assert.equal(
      r.note,
      'compared at equal budget: val_acc at epoch 3 of the 8 trials that reached it (finished trials ran 1 to 9 epochs)',
    );
  });

  it('fewer trials than the minimum: the smallest budget, every trial valued there', async () => {
    const trials = finished([4, 2, 1]);
    const r = await atEqualBudget(trials, 8, 'loss', objectiveAt(trials));
    assert.deepEqual(
      r.trials.map((t) => t.value),
      [1, 101, 201],
    );
    assert.match(r.note!, /loss at epoch 1 of the 3 trials/);
  });

  it('the leaderboard table says when its rows ran different numbers of epochs', () => {
    const row = (id: string, state: string, epochs: number, value: number) =>
      ({
        trial_id: id,
        params: { x: 0.5 },
        state,
        value,
        metrics: { val_acc: value },
        epochs,
        worker: 'w',
      }) as unknown as TrialRecord;
    const exp = { space: syntheticSpace({ x: { kind: 'uniform', min: 0, max: 1 } }) };
    const mixed = [row('t0', 'completed', 9, 0.9), row('t1', 'stopped', 1, 0.95), row('t2', 'failed', 0, 0)];
    const table = renderLeaderboard(exp, mixed, 'table');
    assert.match(
      table,
      /\nnote: these trials ran 1 to 9 epochs: a stopped trial is ranked by its metric at the epoch it stopped, so the ranking mixes budgets; compare trials with equal epochs_run\n$/,
    );
    assert.match(renderLeaderboard(exp, mixed, 'markdown'), /\|\n\nnote: these trials ran 1 to 9 epochs/);
    assert.doesNotMatch(renderLeaderboard(exp, mixed, 'csv'), /note/);
    const equal = [row('t0', 'completed', 9, 0.9), row('t1', 'completed', 9, 0.8)];
    assert.doesNotMatch(renderLeaderboard(exp, equal, 'table'), /note/);
    assert.equal(budgetNote([row('t0', 'completed', 9, 0.9), row('t1', 'failed', 2, 0)]), '');
  });
});
