/**
 * The owner lease in the SQLite store (schema 3), two connections on one file as two drivers: a live
 * lease refuses another claim even with force; an expired one is taken only with force; a dead pid on
 * this host is taken at once; heartbeat and release act only for the holder's token.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OwnerLeaseError, SqliteStore } from '../orchestrator/store/index.js';
import { syntheticSpace } from './helpers/space.js';

describe('owner lease in the SQLite store (real file, two connections)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-store-lease-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('alive refuses, expired needs force, dead is taken; heartbeat and release only for the holder', async () => {
    const file = join(dir, 'l.db');
    let now = 1_000_000;
    const a = SqliteStore.open(file, { now: () => now });
    const b = SqliteStore.open(file, { now: () => now });
    try {
      await a.createExperiment('e', syntheticSpace({ x: { kind: 'constant', value: 1 } }), '');
      const alive = () => true;
      const clock = { staleMs: 10_000, host: 'h1', pidAlive: alive };
      const held = await a.acquireLease('e', { token: 'A', pid: 11, host: 'h1' }, clock);
      assert.equal(held.heartbeat_at, now);
      // Another host, within the heartbeat window: refused, with or without force.
      for (const force of [false, true]) {
        await assert.rejects(
          async () =>
            await b.acquireLease('e', { token: 'B', pid: 22, host: 'h2' }, { ...clock, host: 'h2', force }),
          (err: unknown) =>
            err instanceof OwnerLeaseError &&
            err.state === 'alive' &&
            /already driven by pid 11 on h1/.test(err.message),
        );
      }
      now += 5_000;
      assert.equal(await a.heartbeatLease('e', 'A'), true);
      assert.equal(await b.heartbeatLease('e', 'B'), false, 'not the holder');
      now += 10_001; // no heartbeat for longer than staleMs: expired
      await assert.rejects(
        async () => await b.acquireLease('e', { token: 'B', pid: 22, host: 'h2' }, { ...clock, host: 'h2' }),
        (err: unknown) =>
          err instanceof OwnerLeaseError && err.state === 'expired' && /--force/.test(err.message),
      );
      await b.acquireLease('e', { token: 'B', pid: 22, host: 'h2' }, { ...clock, host: 'h2', force: true });
      assert.equal(await a.heartbeatLease('e', 'A'), false, 'A lost the lease');
      assert.equal((await a.getLease('e'))?.token, 'B');
      // On h2, pid 22 is gone: its lease is dead, taken at once without force.
      await b.acquireLease(
        'e',
        { token: 'C', pid: 33, host: 'h2' },
        { ...clock, host: 'h2', pidAlive: () => false },
      );
      assert.equal((await b.getLease('e'))?.token, 'C');
      await b.releaseLease('e', 'B'); // not the holder: no effect
      assert.equal((await b.getLease('e'))?.token, 'C');
      await b.releaseLease('e', 'C');
      assert.equal(await b.getLease('e'), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
