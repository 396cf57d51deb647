/**
 * The owner lease every Store keeps (Store.acquireLease/heartbeatLease/releaseLease, StoreReader.getLease;
 * rules in orchestrator/store/owner-lease.ts): a live lease refuses another driver even with force, an
 * expired one is taken only with force, a dead one (its pid gone on this host) at once; heartbeat and
 * release act only for the holder; of two drivers claiming together exactly one wins.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  OwnerLeaseError,
  StoreError,
  type LeaseOptions,
  type Store,
} from '../../orchestrator/store/index.js';
import { makeSpace, type StoreFixture } from './store-fixtures.js';

const A = { token: 'token-a', pid: 11, host: 'h1' };
const B = { token: 'token-b', pid: 22, host: 'h2' };
/** Every pid is alive and heartbeats stay fresh for a minute. */
const LIVE: LeaseOptions = { staleMs: 60_000, host: 'h1', pidAlive: () => true };

function refusedAs(state: 'alive' | 'expired') {
  return (err: unknown) =>
    err instanceof OwnerLeaseError && err.state === state && err.lease.token === A.token;
}

export function leaseContract(fixture: () => StoreFixture): void {
  describe('owner lease', () => {
    let store: Store;
    beforeEach(async () => {
      store = fixture().store;
      await store.createExperiment('exp', makeSpace(), 's');
    });

    it('a live lease refuses another driver, even with force; heartbeat and release only for the holder', async () => {
      assert.equal(await store.getLease('exp'), undefined);
      const held = await store.acquireLease('exp', A, LIVE);
      const read = await store.getLease('exp');
      assert.deepEqual(read, held);
      assert.deepEqual([read?.experiment, read?.token, read?.pid, read?.host], ['exp', 'token-a', 11, 'h1']);
      assert.equal(read?.acquired_at, read?.heartbeat_at);
      for (const force of [false, true]) {
        await assert.rejects(
          store.acquireLease('exp', B, { ...LIVE, host: 'h2', force }),
          refusedAs('alive'),
        );
      }
      assert.equal(await store.heartbeatLease('exp', A.token), true);
      assert.equal(await store.heartbeatLease('exp', B.token), false, 'not the holder');
      await store.releaseLease('exp', B.token); // not the holder: nothing
      assert.equal((await store.getLease('exp'))?.token, A.token);
      await store.acquireLease('exp', A, LIVE); // its own lease again: taken
      await store.releaseLease('exp', A.token);
      assert.equal(await store.getLease('exp'), undefined);
      assert.equal(await store.heartbeatLease('exp', A.token), false, 'released');
      assert.equal((await store.acquireLease('exp', B, { ...LIVE, host: 'h2' })).token, B.token);
    });

    it('an expired lease is taken only with force, a dead one at once; the old holder sees it lost', async () => {
      await store.acquireLease('exp', A, LIVE);
      await sleep(20); // older than a 1 ms staleness: expired
      const stale: LeaseOptions = { ...LIVE, staleMs: 1, host: 'h2' };
      await assert.rejects(store.acquireLease('exp', B, stale), refusedAs('expired'));
      assert.equal((await store.acquireLease('exp', B, { ...stale, force: true })).token, B.token);
      assert.equal(await store.heartbeatLease('exp', A.token), false, 'A lost the lease');
      // On h2 pid 22 is gone: its lease is dead, taken without force.
      const C = { token: 'token-c', pid: 33, host: 'h2' };
      await store.acquireLease('exp', C, { ...LIVE, host: 'h2', pidAlive: () => false });
      assert.equal((await store.getLease('exp'))?.token, C.token);
    });

    it('of two drivers claiming at once exactly one wins; an unknown experiment is a StoreError', async () => {
      const outcomes = await Promise.allSettled([
        store.acquireLease('exp', A, LIVE),
        store.acquireLease('exp', B, { ...LIVE, host: 'h2' }),
      ]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      const refused = outcomes.find((o) => o.status === 'rejected');
      assert.ok(refused && refused.reason instanceof OwnerLeaseError, 'the other is refused');
      await assert.rejects(store.acquireLease('nope', A, LIVE), StoreError);
    });
  });
}
