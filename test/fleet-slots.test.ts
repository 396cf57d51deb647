/**
 * FleetSlots (the fleet's slots from heartbeats) without a bus: workers joining, draining, going
 * stale, of another protocol or without the task; another search's load; the prefetch. The real
 * heartbeats are read in test/nats-fleet-capacity.test.ts.
 */
import assert from 'node:assert/strict';
import type { WorkerHeartbeat } from '../shared/protocol/bus.js';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import { FleetSlots, fleetPrefetch } from '../orchestrator/transport/nats/fleet-slots.js';

function hb(name: string, slots: number, busy = 0, more: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return {
    v: PROTOCOL_VERSION,
    name,
    slots,
    busy,
    trials_done: 0,
    started_at: 0,
    sent_at: 0,
    draining: false,
    invalid_messages: 0,
    ...more,
  };
}

describe('FleetSlots', () => {
  let now = 0;
  let grew = 0;
  let own = new Map<string, number>();
  const fleet = (countsWorker?: (h: WorkerHeartbeat) => boolean) =>
    new FleetSlots({
      staleMs: 15_000,
      now: () => now,
      ownOn: (w) => own.get(w) ?? 0,
      onGrow: () => grew++,
      ...(countsWorker ? { countsWorker } : {}),
    });
  beforeEach(() => {
    now = 1_000_000;
    grew = 0;
    own = new Map();
  });

  it('no worker: 0 slots and no prefetch; a worker joining grows the slots and says so', () => {
    const f = fleet();
    assert.equal(f.slots(), 0);
    assert.equal(fleetPrefetch(f.slots()), 0);
    f.heard(hb('a', 2));
    assert.equal(f.slots(), 2);
    assert.equal(grew, 1);
    f.heard(hb('b', 6));
    assert.equal(f.slots(), 8);
    assert.equal(grew, 2);
    f.heard(hb('b', 6)); // the same again: no growth
    assert.equal(grew, 2);
    assert.deepEqual([1, 2, 8, 9, 64].map(fleetPrefetch), [1, 1, 2, 3, 16]);
  });

  it('a draining worker leaves at once, a silent one after staleMs; one of another protocol or without the task never counts', () => {
    const f = fleet((h) => h.name !== 'no-task');
    f.heard(hb('a', 2));
    f.heard(hb('b', 4));
    f.heard(hb('old', 4, 0, { v: PROTOCOL_VERSION + 1 }));
    f.heard(hb('no-task', 4));
    assert.equal(f.slots(), 6);
    f.heard(hb('b', 4, 0, { draining: true }));
    assert.equal(f.slots(), 2);
    now += 14_999;
    assert.equal(f.slots(), 2);
    now += 1;
    assert.equal(f.slots(), 0, 'stale');
    f.expire();
    assert.equal(f.workers(), 0);
    f.heard(hb('a', 2)); // back: counts again
    assert.equal(f.slots(), 2);
  });

  it("another search's trials take slots once two heartbeats say so; this search's own do not", () => {
    const f = fleet();
    own.set('a', 1);
    f.heard(hb('a', 4, 1)); // its own trial
    assert.equal(f.slots(), 4);
    f.heard(hb('a', 4, 3)); // two others' trials, once (may be a result crossing the heartbeat)
    assert.equal(f.slots(), 4);
    f.heard(hb('a', 4, 3)); // and again
    assert.equal(f.slots(), 2);
    own.set('a', 3);
    f.heard(hb('a', 4, 3)); // all its own now
    assert.equal(f.slots(), 4);
  });
});
