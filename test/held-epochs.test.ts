/** The epochs a result waits for (orchestrator/transport/nats/held-epochs.ts), on a fake clock. */
import assert from 'node:assert/strict';
import { HeldEpochs } from '../orchestrator/transport/nats/held-epochs.js';

describe('held epochs: a result waits for the epochs of its delivery the store could not write yet', () => {
  it('per delivery; released once recorded; forgotten when not seen again for the window', () => {
    let now = 0;
    const held = new HeldEpochs(32_000, () => now);
    const d = { experiment_id: 'e', trial_id: 't0000', attempt: 1 };
    held.hold({ ...d, epoch: 2 });
    held.hold({ ...d, epoch: 1 });
    held.hold({ ...d, attempt: 2, epoch: 1 });
    assert.deepEqual(held.waiting(d), [1, 2]);
    assert.deepEqual(held.waiting({ ...d, trial_id: 't0001' }), []);
    held.release({ ...d, epoch: 1 });
    assert.deepEqual(held.waiting(d), [2]);
    now = 20_000;
    held.hold({ ...d, epoch: 2 }); // delivered again, still waiting: seen now
    now = 45_000;
    assert.deepEqual(held.waiting(d), [2]);
    now = 60_000; // not seen again for more than 32 s: a lost event holds nothing back
    assert.deepEqual(held.waiting(d), []);
    assert.deepEqual(held.waiting({ ...d, attempt: 2 }), []);
  });
});
