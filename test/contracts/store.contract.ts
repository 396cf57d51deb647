/**
 * Behaviour every Store must have (orchestrator/store/types.ts). A test file calls
 * `storeContract(name, factory)` once per implementation; each test gets a fresh, empty store.
 */
import assert from 'node:assert/strict';

import type { Goal } from '../../orchestrator/search-space/types.js';
import { StoreError, type Store, type TrialResult } from '../../orchestrator/store/index.js';
import { leaseContract } from './store-lease.contract.js';
import { feedContract } from './store-feed.contract.js';
import { readsContract } from './store-reads.contract.js';
import { makeResult, makeSpace, makeTrial, type StoreFixture } from './store-fixtures.js';

export { makeResult, makeSpace, makeTrial, type StoreFixture } from './store-fixtures.js';

/** What a store can do beyond the contract, so the suite registers only the tests that apply. */
export interface StoreContractOptions {
  /**
   * Another connection can open the same store read-only (a file, a server; not a private :memory:
   * database): the fixture then must give `openReader`.
   */
  readerBeside?: boolean;
}

export function storeContract(
  name: string,
  factory: () => Promise<StoreFixture>,
  options: StoreContractOptions = {},
): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    /** Adds trials 0..n-1 to a new experiment `exp` (maximize val_acc unless `goal` says otherwise). */
    async function experimentWithTrials(n: number, goal: Goal = 'maximize', exp = 'exp'): Promise<void> {
      await store.createExperiment(exp, makeSpace(goal), 'source text');
      for (let i = 0; i < n; i++) await store.addTrial(exp, makeTrial(i));
    }

    /** Starts and finishes trial `id` with the objective at `value`. */
    async function finish(
      id: string,
      metrics: Record<string, number>,
      state: TrialResult['state'] = 'completed',
    ): Promise<void> {
      const attempt = await store.startTrial('exp', id, 'w1');
      assert.notEqual(attempt, null);
      assert.equal(
        await store.recordResult('exp', id, makeResult(metrics, { state, attempt: attempt! })),
        true,
      );
    }

    describe('experiments', () => {
      it('creates, gets and lists experiments', async () => {
        const before = Date.now();
        const space = makeSpace();
        const created = await store.createExperiment('alpha', space, 'method: random\n');
        assert.equal(created.name, 'alpha');
        assert.deepEqual(created.space, space);
        assert.equal(created.source, 'method: random\n');
        assert.equal(created.status, 'running');
        assert.ok(created.created_at >= before && created.created_at <= Date.now() + 1);
        assert.equal(created.updated_at, created.created_at);

        await store.createExperiment('beta', makeSpace('minimize'), 'b');
        assert.deepEqual(await store.getExperiment('alpha'), created);
        assert.equal((await store.getExperiment('beta'))?.space.metric.goal, 'minimize');
        assert.equal(await store.getExperiment('gamma'), undefined);
        assert.deepEqual((await store.listExperiments()).map((e) => e.name).sort(), ['alpha', 'beta']);
      });

      it('sets the status and updated_at', async () => {
        const created = await store.createExperiment('alpha', makeSpace(), 's');
        await store.setExperimentStatus('alpha', 'interrupted');
        const got = (await store.getExperiment('alpha'))!;
        assert.equal(got.status, 'interrupted');
        assert.ok(got.updated_at >= created.created_at);
        await store.setExperimentStatus('alpha', 'completed');
        assert.equal((await store.getExperiment('alpha'))!.status, 'completed');
      });

      it('rejects a duplicate experiment name with a StoreError and keeps the first', async () => {
        await store.createExperiment('alpha', makeSpace(), 'first');
        await assert.rejects(
          async () => await store.createExperiment('alpha', makeSpace('minimize'), 'second'),
          (err: unknown) =>
            err instanceof StoreError &&
            /experiment 'alpha' already exists/.test(err.message) &&
            /hpo resume alpha/.test(err.message),
        );
        assert.equal((await store.getExperiment('alpha'))!.source, 'first');
        assert.equal((await store.listExperiments()).length, 1);
      });
    });

    describe('trials', () => {
      it('adds a pending trial with the fields it was given', async () => {
        await store.createExperiment('exp', makeSpace(), 's');
        const t = await store.addTrial('exp', makeTrial(0));
        assert.equal(t.experiment, 'exp');
        assert.equal(t.trial_id, 't0');
        assert.equal(t.index, 0);
        assert.deepEqual(t.params, makeTrial(0).params);
        assert.equal(t.seed, 1000);
        assert.equal(t.state, 'pending');
        assert.equal(t.attempt, 0);
        assert.equal(t.worker, null);
        assert.equal(t.value, null);
        assert.equal(t.metrics, null);
        assert.equal(t.epochs, 0);
        assert.equal(t.error, null);
        assert.equal(t.started_at, null);
        assert.equal(t.ended_at, null);
        assert.deepEqual(await store.getTrial('exp', 't0'), t);
        assert.equal(await store.getTrial('exp', 'nope'), undefined);
      });

      it('addTrial is idempotent: the same trial_id changes nothing and returns the existing record', async () => {
        await store.createExperiment('exp', makeSpace(), 's');
        const first = await store.addTrial('exp', makeTrial(0));
        await store.startTrial('exp', 't0', 'w1');
        const running = (await store.getTrial('exp', 't0'))!;
        const again = await store.addTrial('exp', {
          ...makeTrial(0),
          params: { learning_rate: 0.5 },
          seed: 1,
        });
        assert.deepEqual(again, running);
        assert.deepEqual(again.params, first.params);
        assert.equal(again.state, 'running');
        assert.equal((await store.listTrials('exp')).length, 1);
      });

      it('keeps trials of different experiments apart', async () => {
        await experimentWithTrials(2);
        await store.createExperiment('other', makeSpace(), 's');
        await store.addTrial('other', makeTrial(0));
        await store.startTrial('other', 't0', 'w9');
        assert.equal((await store.getTrial('exp', 't0'))!.state, 'pending');
        assert.equal((await store.listTrials('other')).length, 1);
        assert.equal(await store.requeueRunning('exp'), 0);
        assert.equal((await store.getTrial('other', 't0'))!.state, 'running');
      });

      it('listTrials orders by index', async () => {
        await store.createExperiment('exp', makeSpace(), 's');
        for (const i of [2, 0, 3, 1])
          await store.addTrial('exp', makeTrial(i, `id-${String.fromCharCode(122 - i)}`));
        assert.deepEqual(
          (await store.listTrials('exp')).map((t) => t.index),
          [0, 1, 2, 3],
        );
        assert.deepEqual(await store.listTrials('missing'), []);
      });

      it('countTrials counts every state, 0 for states without trials and for unknown experiments', async () => {
        await store.createExperiment('exp', makeSpace(), 's');
        for (const i of [0, 1, 2, 3]) await store.addTrial('exp', makeTrial(i));
        await store.startTrial('exp', makeTrial(0).trial_id, 'w');
        await store.startTrial('exp', makeTrial(1).trial_id, 'w');
        await store.recordResult('exp', makeTrial(1).trial_id, makeResult({ val_acc: 0.5 }));
        assert.deepEqual(await store.countTrials('exp'), {
          pending: 2,
          queued: 0,
          running: 1,
          completed: 1,
          stopped: 0,
          failed: 0,
        });
        assert.deepEqual(await store.countTrials('missing'), {
          pending: 0,
          queued: 0,
          running: 0,
          completed: 0,
          stopped: 0,
          failed: 0,
        });
      });
    });

    describe('startTrial', () => {
      it('moves pending to running with attempt 1, then 2 after a requeue', async () => {
        await experimentWithTrials(1);
        assert.equal(await store.startTrial('exp', 't0', 'w1'), 1);
        let t = (await store.getTrial('exp', 't0'))!;
        assert.equal(t.state, 'running');
        assert.equal(t.attempt, 1);
        assert.equal(t.worker, 'w1');
        assert.equal(typeof t.started_at, 'number');

        assert.equal(await store.requeueRunning('exp'), 1);
        assert.equal((await store.getTrial('exp', 't0'))!.state, 'pending');
        assert.equal(await store.startTrial('exp', 't0', 'w2'), 2);
        t = (await store.getTrial('exp', 't0'))!;
        assert.equal(t.state, 'running');
        assert.equal(t.attempt, 2);
        assert.equal(t.worker, 'w2');
      });

      it('counts a redelivery of a running trial as a new attempt', async () => {
        await experimentWithTrials(1);
        assert.equal(await store.startTrial('exp', 't0', 'w1'), 1);
        assert.equal(await store.startTrial('exp', 't0', null), 2);
        assert.equal((await store.getTrial('exp', 't0'))!.state, 'running');
      });

      it('queues over a bus: queued until markRunning for that attempt; a re-dispatch is a new attempt', async () => {
        await experimentWithTrials(1);
        assert.equal(await store.startTrial('exp', 't0', null, 'queued'), 1);
        assert.equal((await store.getTrial('exp', 't0'))!.state, 'queued');
        assert.equal((await store.countTrials('exp')).queued, 1);
        assert.equal(await store.markRunning('exp', 't0', 2, 'w1'), false, 'another attempt changes nothing');
        assert.equal((await store.getTrial('exp', 't0'))!.state, 'queued');
        assert.equal(await store.markRunning('exp', 't0', 1, 'w1'), true);
        let t = (await store.getTrial('exp', 't0'))!;
        assert.deepEqual([t.state, t.attempt, t.worker], ['running', 1, 'w1']);
        assert.equal(await store.markRunning('exp', 't0', 1, 'w2'), false, 'only a queued trial');
        assert.equal(await store.startTrial('exp', 't0', null, 'queued'), 2);
        t = (await store.getTrial('exp', 't0'))!;
        assert.deepEqual([t.state, t.attempt], ['queued', 2]);
        await finish('t0', { val_acc: 0.5 });
        assert.equal(await store.markRunning('exp', 't0', 2, 'w1'), false);
        assert.equal((await store.getTrial('exp', 't0'))!.state, 'completed');
      });

      it('returns null and changes nothing for a final trial', async () => {
        await experimentWithTrials(3);
        await finish('t0', { val_acc: 0.5 });
        await finish('t1', { val_acc: 0.4 }, 'stopped');
        await finish('t2', {}, 'failed');
        for (const id of ['t0', 't1', 't2']) {
          const before = (await store.getTrial('exp', id))!;
          assert.equal(await store.startTrial('exp', id, 'w2'), null);
          assert.deepEqual(await store.getTrial('exp', id), before);
        }
      });
    });

    describe('recordEpoch', () => {
      it('upserts: an epoch reported twice keeps one row with the latest metrics', async () => {
        await experimentWithTrials(1);
        await store.startTrial('exp', 't0', 'w1');
        await store.recordEpoch('exp', 't0', 1, { val_acc: 0.1, val_loss: 2 });
        await store.recordEpoch('exp', 't0', 2, { val_acc: 0.3, val_loss: 1.5 });
        await store.recordEpoch('exp', 't0', 1, { val_acc: 0.2, val_loss: 1.9 });
        const epochs = await store.listEpochs('exp', 't0');
        assert.deepEqual(
          epochs.map((e) => [e.trial_id, e.epoch, e.metrics]),
          [
            ['t0', 1, { val_acc: 0.2, val_loss: 1.9 }],
            ['t0', 2, { val_acc: 0.3, val_loss: 1.5 }],
          ],
        );
        assert.ok(epochs.every((e) => typeof e.recorded_at === 'number'));
        assert.equal((await store.getTrial('exp', 't0'))!.epochs, 2);
      });

      it('is ignored once the trial is final', async () => {
        await experimentWithTrials(1);
        await store.startTrial('exp', 't0', 'w1');
        await store.recordEpoch('exp', 't0', 1, { val_acc: 0.1 });
        assert.equal(
          await store.recordResult('exp', 't0', makeResult({ val_acc: 0.1 }, { epochs: 1 })),
          true,
        );
        await store.recordEpoch('exp', 't0', 1, { val_acc: 0.9 });
        await store.recordEpoch('exp', 't0', 2, { val_acc: 0.9 });
        assert.deepEqual(
          (await store.listEpochs('exp', 't0')).map((e) => [e.epoch, e.metrics]),
          [[1, { val_acc: 0.1 }]],
        );
        assert.equal((await store.getTrial('exp', 't0'))!.epochs, 1);
      });

      it('keeps NaN and infinite metrics', async () => {
        await experimentWithTrials(1);
        await store.startTrial('exp', 't0', 'w1');
        await store.recordEpoch('exp', 't0', 1, {
          val_acc: 0.1,
          val_loss: NaN,
          grad: Infinity,
          low: -Infinity,
        });
        assert.deepEqual((await store.listEpochs('exp', 't0'))[0].metrics, {
          val_acc: 0.1,
          val_loss: NaN,
          grad: Infinity,
          low: -Infinity,
        });
      });
    });

    describe('recordResult', () => {
      it('records the final outcome; the value is metrics[space.metric.name]', async () => {
        await experimentWithTrials(1);
        await store.startTrial('exp', 't0', 'w1');
        const result = makeResult(
          { val_acc: 0.875, val_loss: 0.3, test_acc: 0.86 },
          { worker: 'w7', backend: 'wasm', epochs: 4, started_at: 10, ended_at: 20 },
        );
        assert.equal(await store.recordResult('exp', 't0', result), true);
        const t = (await store.getTrial('exp', 't0'))!;
        assert.equal(t.state, 'completed');
        assert.equal(t.value, 0.875);
        assert.deepEqual(t.metrics, result.metrics);
        assert.equal(t.epochs, 4);
        assert.equal(t.worker, 'w7');
        assert.equal(t.backend, 'wasm');
        assert.equal(t.started_at, 10);
        assert.equal(t.ended_at, 20);
        assert.equal(t.error, null);
        assert.equal(t.attempt, 1);
      });

      it('first final result wins: a second call returns false and leaves the first', async () => {
        await experimentWithTrials(1);
        await store.startTrial('exp', 't0', 'w1');
        assert.equal(
          await store.recordResult('exp', 't0', makeResult({ val_acc: 0.6 }, { worker: 'w1' })),
          true,
        );
        const first = (await store.getTrial('exp', 't0'))!;
        assert.equal(
          await store.recordResult(
            'exp',
            't0',
            makeResult({ val_acc: 0.9 }, { worker: 'w2', state: 'stopped' }),
          ),
          false,
        );
        assert.equal(
          await store.recordResult(
            'exp',
            't0',
            makeResult({}, { state: 'failed', error: 'boom', attempt: 2 }),
          ),
          false,
        );
        assert.deepEqual(await store.getTrial('exp', 't0'), first);
        assert.equal(first.value, 0.6);
        assert.equal((await store.listTrials('exp')).length, 1);
      });

      it('value is null when the metric is absent or NaN; failed trials keep their error', async () => {
        await experimentWithTrials(3);
        await finish('t0', { val_loss: 0.2 });
        await finish('t1', { val_acc: NaN });
        const attempt = (await store.startTrial('exp', 't2', 'w1'))!;
        await store.recordResult(
          'exp',
          't2',
          makeResult({}, { state: 'failed', error: 'out of memory', attempt }),
        );
        assert.equal((await store.getTrial('exp', 't0'))!.value, null);
        assert.equal((await store.getTrial('exp', 't1'))!.value, null);
        assert.ok(Number.isNaN((await store.getTrial('exp', 't1'))!.metrics!.val_acc));
        const failed = (await store.getTrial('exp', 't2'))!;
        assert.equal(failed.state, 'failed');
        assert.equal(failed.error, 'out of memory');
        assert.equal(failed.value, null);
      });

      it("uses the metric of the trial's own experiment", async () => {
        await store.createExperiment('exp', makeSpace('minimize', 'val_loss'), 's');
        await store.addTrial('exp', makeTrial(0));
        await finish('t0', { val_acc: 0.9, val_loss: 0.25 });
        assert.equal((await store.getTrial('exp', 't0'))!.value, 0.25);
      });
    });

    describe('requeueRunning', () => {
      it('moves queued and running trials back to pending and leaves the others', async () => {
        await experimentWithTrials(4);
        await store.startTrial('exp', 't0', 'w1');
        await store.startTrial('exp', 't1', null, 'queued');
        await finish('t2', { val_acc: 0.5 });
        assert.equal(await store.requeueRunning('exp'), 2);
        assert.deepEqual(
          (await store.listTrials('exp')).map((t) => [t.trial_id, t.state, t.attempt]),
          [
            ['t0', 'pending', 1],
            ['t1', 'pending', 1],
            ['t2', 'completed', 1],
            ['t3', 'pending', 0],
          ],
        );
        assert.equal(await store.requeueRunning('exp'), 0);
      });
    });

    describe('leaderboard', () => {
      /** t0..t7: completed, stopped, failed (with a value in its metrics), running, pending, ties. */
      async function populate(goal: Goal): Promise<void> {
        const name = goal === 'maximize' ? 'val_acc' : 'val_loss';
        await experimentWithTrials(8, goal);
        await finish('t0', { [name]: 0.5 });
        await finish('t1', { [name]: 0.9 }, 'stopped');
        await finish('t2', { [name]: 0.99 }, 'failed');
        await store.startTrial('exp', 't3', 'w1');
        await store.recordEpoch('exp', 't3', 1, { [name]: 0.95 });
        // t4 stays pending
        await finish('t5', { [name]: 0.7 });
        await finish('t6', { other: 1 }); // no value
        await finish('t7', { [name]: 0.5 }); // ties with t0
      }

      it('ranks completed and stopped trials with a value, best first, for maximize', async () => {
        await populate('maximize');
        const board = await store.leaderboard('exp');
        assert.deepEqual(
          board.map((t) => [t.trial_id, t.value]),
          [
            ['t1', 0.9],
            ['t5', 0.7],
            ['t0', 0.5],
            ['t7', 0.5],
          ],
        );
        assert.equal(board[0].state, 'stopped');
      });

      it('ranks ascending for minimize, ties by index', async () => {
        await populate('minimize');
        assert.deepEqual(
          (await store.leaderboard('exp')).map((t) => t.trial_id),
          ['t0', 't7', 't5', 't1'],
        );
      });

      it('limits to top', async () => {
        await populate('maximize');
        assert.deepEqual(
          (await store.leaderboard('exp', { top: 2 })).map((t) => t.trial_id),
          ['t1', 't5'],
        );
        assert.deepEqual(await store.leaderboard('exp', { top: 0 }), []);
        assert.equal((await store.leaderboard('exp', { top: 100 })).length, 4);
      });

      it('is empty when nothing has finished', async () => {
        await experimentWithTrials(2);
        await store.startTrial('exp', 't0', 'w1');
        assert.deepEqual(await store.leaderboard('exp'), []);
      });
    });

    leaseContract(() => fixture);
    feedContract(() => fixture, options);
    readsContract(() => fixture);
  });
}
