/**
 * The trial deadline's rule with a fake clock and a fake queue (fast; the real-process proof is
 * test/trial-liveness.test.ts): a trial whose message is in the queue is alive however long it is
 * silent; one found gone gets one more full timeout; then it is dispatched again, and after
 * `maxTimeouts` losses it fails; an event meanwhile resets it.
 */
import assert from 'node:assert/strict';
import { Deliveries, type InFlight } from '../orchestrator/transport/nats/deliveries.js';
import { TrialDeadline } from '../orchestrator/transport/nats/trial-deadline.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../shared/protocol/index.js';

function spec(attempt: number): TrialSpec {
  return {
    v: PROTOCOL_VERSION,
    experiment: 'e',
    experiment_id: 'e1',
    trial_id: 't0',
    attempt,
    task: 'synthetic',
    params: { epochs: 2 },
    seed: 1,
  };
}

describe('trial deadline (fake clock and queue)', () => {
  let now: number;
  let deliveries: Deliveries;
  let queued: boolean;
  let actions: string[];
  let deadline: TrialDeadline;

  beforeEach(() => {
    now = 0;
    deliveries = new Deliveries([], () => now);
    queued = true;
    actions = [];
    deadline = new TrialDeadline({
      timeoutMs: 10_000,
      maxTimeouts: 2,
      inFlight: () => deliveries.all(),
      queued: () => Promise.resolve(queued),
      redispatch: (e: InFlight) => {
        actions.push(`redispatch ${e.attempt}`);
        deliveries.dispatch(spec(e.attempt + 1));
        return Promise.resolve();
      },
      fail: (e: InFlight, why: string) => {
        actions.push(`fail ${e.attempt}: ${why}`);
        return Promise.resolve();
      },
      now: () => now,
    });
  });

  const at = async (ms: number) => {
    now = ms;
    await deadline.tick();
  };

  it('a trial whose message stays in the queue is never lost, however long it is silent', async () => {
    deliveries.dispatch(spec(1));
    for (let t = 0; t <= 600_000; t += 5000) await at(t);
    assert.deepEqual(actions, []);
  });

  it('gone from the queue: one more timeout, then dispatched again; after maxTimeouts losses it fails', async () => {
    deliveries.dispatch(spec(1));
    queued = false;
    await at(9_999);
    assert.deepEqual(actions, [], 'not overdue yet');
    await at(10_000); // found gone: another full timeout
    assert.deepEqual(actions, []);
    await at(19_999);
    assert.deepEqual(actions, []);
    await at(20_000);
    assert.deepEqual(actions, ['redispatch 1']);
    assert.equal(deliveries.get('e1', 't0')!.attempt, 2);
    await at(30_000);
    await at(40_000);
    assert.equal(actions.length, 2);
    assert.match(actions[1], /^fail 2: no sign of life for 10 s \(trial timeout\).*gave up after 2 timeout/);
    assert.equal(deadline.lost, 2);
  });

  it('an event of the current delivery is a sign of life', async () => {
    const entry = deliveries.dispatch(spec(1));
    queued = false;
    await at(10_000); // found gone
    now = 15_000;
    const claim = { ...spec(1), token: entry.token };
    assert.equal(deliveries.check(claim).ok, true);
    await at(20_000);
    await at(24_999);
    assert.deepEqual(actions, [], 'the event reset the clock');
    await at(25_000); // found gone again (the event cleared it): one more timeout
    assert.deepEqual(actions, []);
    await at(35_000);
    assert.deepEqual(actions, ['redispatch 1']);
  });

  it('an action that fails (the store cannot write) is tried again after another timeout', async () => {
    let calls = 0;
    const d = new TrialDeadline({
      timeoutMs: 1000,
      maxTimeouts: 1,
      inFlight: () => deliveries.all(),
      queued: () => Promise.resolve(false),
      redispatch: () => Promise.reject(new Error('not expected: maxTimeouts is 1')),
      fail: () => (++calls === 1 ? Promise.reject(new Error('store cannot write')) : Promise.resolve()),
      now: () => now,
    });
    deliveries.dispatch(spec(1));
    for (const t of [1000, 2000]) {
      now = t;
      await d.tick();
    }
    assert.equal(calls, 1);
    now = 2999;
    await d.tick();
    assert.equal(calls, 1, 'not before another timeout');
    now = 3000;
    await d.tick();
    assert.equal(calls, 2, 'tried again, still as the same (first) timeout: fail, not redispatch');
  });

  it('rejects a timeout under 1 s and a non-positive maxTimeouts', () => {
    const base = {
      inFlight: () => [],
      queued: () => Promise.resolve(true),
      redispatch: () => Promise.resolve(),
      fail: () => Promise.resolve(),
    };
    assert.throws(() => new TrialDeadline({ ...base, timeoutMs: 999, maxTimeouts: 3 }), /at least 1000/);
    assert.throws(() => new TrialDeadline({ ...base, timeoutMs: 1000, maxTimeouts: 0 }), /positive integer/);
  });
});
