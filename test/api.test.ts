import assert from 'node:assert/strict';
import { type LeaderboardAnswer, startApiServer, type StatusAnswer } from '../orchestrator/api/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { makeSpace, makeTrial } from './contracts/store.contract.js';

describe('orchestrator HTTP API (/api/status, /api/leaderboard)', () => {
  it('serves the same JSON answers as the CLI, binds 127.0.0.1, and 404s the rest', async () => {
    const store = SqliteStore.open(':memory:');
    await store.createExperiment('e', makeSpace(), 'test');
    for (const i of [0, 1, 2]) {
      await store.addTrial('e', makeTrial(i));
      await store.startTrial('e', `t${i}`, 'w');
      if (i < 2) {
        await store.recordResult('e', `t${i}`, {
          attempt: 1,
          state: 'completed',
          metrics: { val_acc: 0.5 + i / 10 },
          epochs: 1,
          worker: 'w',
          started_at: 1,
          ended_at: 2,
        });
      }
    }
    const api = await startApiServer({ store, experiment: 'e', port: 0 });
    try {
      assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const status = (await (await fetch(`${api.url}/api/status`)).json()) as StatusAnswer;
      assert.equal(status.name, 'e');
      assert.equal(status.trials.completed, 2);
      assert.deepEqual(
        status.running.map((t) => t.trial_id),
        ['t2'],
      );
      const board = (await (await fetch(`${api.url}/api/leaderboard?top=1`)).json()) as LeaderboardAnswer;
      assert.deepEqual(
        board.rows.map((t) => t.trial_id),
        ['t1'],
      );
      assert.equal((await fetch(`${api.url}/api/secrets`)).status, 404);
      assert.equal((await fetch(`${api.url}/api/leaderboard?top=-3`)).status, 404);
      assert.equal((await fetch(`${api.url}/api/status`, { method: 'POST' })).status, 405);
    } finally {
      await api.close();
      await store.close();
    }
  });
});
