/**
 * The aggregate reads of StoreReader (what the web dashboard shows): pages of trials sorted by any field
 * or parameter, filtered by state; error groups; stopped trials; epoch counts and names; finished trials
 * in finishing order and with their parameters; a metric at one epoch; counts of every experiment.
 */
import assert from 'node:assert/strict';

import {
  StoreError,
  TRIAL_SORT_FIELDS,
  trialSortProblem,
  type Store,
} from '../../orchestrator/store/index.js';
import { makeResult, makeSpace, makeTrial, type StoreFixture } from './store-fixtures.js';

/** t0 completed 0.5 (ended 30), t1 stopped 0.9 after 1 epoch (ended 10), t2 failed twice-seen error, t3 failed, t4 running, t5 pending. */
async function populate(store: Store): Promise<void> {
  await store.createExperiment('exp', makeSpace(), 's');
  for (let i = 0; i < 6; i++) await store.addTrial('exp', makeTrial(i));
  for (let i = 0; i < 5; i++) await store.startTrial('exp', `t${i}`, `w${i % 2}`);
  await store.recordEpoch('exp', 't0', 1, { val_acc: 0.3, loss: 1 });
  await store.recordEpoch('exp', 't0', 2, { val_acc: 0.5, loss: 0.5 });
  await store.recordEpoch('exp', 't1', 1, { val_acc: 0.9, loss: 0.2 });
  await store.recordResult('exp', 't0', makeResult({ val_acc: 0.5 }, { epochs: 2, ended_at: 30 }));
  await store.recordResult(
    'exp',
    't1',
    makeResult({ val_acc: 0.9 }, { state: 'stopped', epochs: 1, ended_at: 10 }),
  );
  await store.recordResult('exp', 't2', makeResult({}, { state: 'failed', error: 'out of memory' }));
  await store.recordResult('exp', 't3', makeResult({}, { state: 'failed', error: 'out of memory' }));
  await store.recordEpoch('exp', 't4', 1, { val_acc: 0.1, acc: 0.2 });
}

export function readsContract(fixture: () => StoreFixture): void {
  describe('aggregate reads', () => {
    let store: Store;
    beforeEach(async () => {
      store = fixture().store;
      await populate(store);
    });

    it('pages trials by a field or a parameter, either way, with a state filter and the total', async () => {
      const ids = async (q: Partial<Parameters<Store['trialPage']>[1]>) =>
        (
          await store.trialPage('exp', { sort: 'index', descending: false, offset: 0, limit: 50, ...q })
        ).rows.map((t) => t.trial_id);
      assert.deepEqual(await ids({}), ['t0', 't1', 't2', 't3', 't4', 't5']);
      // Missing values last whichever way; ties by index.
      assert.deepEqual(await ids({ sort: 'value', descending: true }), ['t1', 't0', 't2', 't3', 't4', 't5']);
      assert.deepEqual(await ids({ sort: 'value' }), ['t0', 't1', 't2', 't3', 't4', 't5']);
      assert.deepEqual(await ids({ sort: 'param:learning_rate', descending: true }), [
        't5',
        't4',
        't3',
        't2',
        't1',
        't0',
      ]);
      assert.deepEqual(await ids({ state: 'failed' }), ['t2', 't3']);
      const page = await store.trialPage('exp', { sort: 'index', descending: false, offset: 1, limit: 2 });
      assert.deepEqual([page.total, page.rows.map((t) => t.trial_id)], [6, ['t1', 't2']]);
      assert.deepEqual(
        await store.trialPage('nope', { sort: 'index', descending: false, offset: 0, limit: 5 }),
        {
          total: 0,
          rows: [],
        },
      );
      for (const field of TRIAL_SORT_FIELDS) assert.equal((await ids({ sort: field })).length, 6, field);
      await assert.rejects(
        store.trialPage('exp', { sort: 'param:nope', descending: false, offset: 0, limit: 5 }),
        (err: unknown) =>
          err instanceof StoreError && err.message === trialSortProblem('param:nope', makeSpace()),
      );
    });

    it('groups errors, lists stopped trials, counts and names epochs, reads a metric at an epoch', async () => {
      assert.deepEqual(await store.errorGroups('exp', 10), [
        { error: 'out of memory', trials: 2, trial_id: 't2' },
      ]);
      assert.deepEqual(await store.stoppedTrials('exp'), [{ index: 1, epochs: 1 }]);
      assert.equal(await store.countEpochs('exp'), 4);
      assert.deepEqual((await store.lastEpochMetricNames('exp')).sort(), ['acc', 'val_acc']);
      assert.deepEqual([...(await store.metricAtEpoch('exp', 1, 'loss'))].sort(), [
        ['t0', 1],
        ['t1', 0.2],
      ]);
      assert.ok((await store.lastEpochRow()) > 0);
    });

    it('lists finished trials with a value in finishing order and with their parameters; counts every experiment', async () => {
      assert.deepEqual(await store.finishedOrder('exp'), [
        { trial_id: 't1', index: 1, value: 0.9, ended_at: 10 },
        { trial_id: 't0', index: 0, value: 0.5, ended_at: 30 },
      ]);
      const params = await store.finishedParams('exp');
      assert.deepEqual(
        params.map((r) => [r.trial_id, r.value, r.epochs, r.params]),
        [
          ['t0', 0.5, 2, makeTrial(0).params],
          ['t1', 0.9, 1, makeTrial(1).params],
        ],
      );
      await store.createExperiment('other', makeSpace(), 's');
      await store.addTrial('other', makeTrial(0));
      const counts = await store.countTrialsByExperiment();
      assert.deepEqual(counts.get('exp'), await store.countTrials('exp'));
      assert.equal(counts.get('other')?.pending, 1);
      assert.equal(counts.get('exp')?.failed, 2);
    });
  });
}
