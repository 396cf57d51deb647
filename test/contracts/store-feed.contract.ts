/**
 * The change feed every StoreReader offers: version() moves with every committed write and stays put
 * while nothing is written; watch() calls its listener after a write (this connection's, or another
 * process's seen through a read-only reader) and never after it was unsubscribed.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Store, StoreChange, StoreReader } from '../../orchestrator/store/index.js';
import { makeResult, makeSpace, makeTrial, type StoreFixture } from './store-fixtures.js';
import type { StoreContractOptions } from './store.contract.js';

const INTERVAL_MS = 10;

/** Resolves once `check` holds; fails after 10 s (a feed that never fires). */
async function eventually(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`no change seen within 10 s: ${what}`);
    await sleep(INTERVAL_MS);
  }
}

/** Watches `reader`, runs `write`, and waits for the listener; returns the changes seen. */
async function changeAfter(reader: StoreReader, write: () => Promise<unknown>): Promise<StoreChange[]> {
  const seen: StoreChange[] = [];
  const stop = reader.watch((c) => seen.push(c), { intervalMs: INTERVAL_MS });
  try {
    await sleep(5 * INTERVAL_MS); // the watch has its starting version
    assert.deepEqual(seen, [], 'no change before the write');
    await write();
    await eventually('after a write', () => seen.length > 0);
    return seen;
  } finally {
    stop();
  }
}

export function feedContract(fixture: () => StoreFixture, options: StoreContractOptions): void {
  describe('change feed', () => {
    let store: Store;
    beforeEach(() => {
      store = fixture().store;
    });

    it('version() grows with every kind of write and stays put while nothing is written', async () => {
      let last = await store.version();
      assert.equal(await store.version(), last, 'no write, same version');
      const writes: [string, () => Promise<unknown>][] = [
        ['createExperiment', () => store.createExperiment('exp', makeSpace(), 's')],
        ['addTrial', () => store.addTrial('exp', makeTrial(0))],
        ['startTrial', () => store.startTrial('exp', 't0', 'w1')],
        ['recordEpoch', () => store.recordEpoch('exp', 't0', 1, { val_acc: 0.5 })],
        ['recordResult', () => store.recordResult('exp', 't0', makeResult({ val_acc: 0.6 }))],
        ['setExperimentStatus', () => store.setExperimentStatus('exp', 'completed')],
        [
          'acquireLease',
          () => store.acquireLease('exp', { token: 'a', pid: 1, host: 'h' }, { staleMs: 1000, host: 'h' }),
        ],
      ];
      for (const [what, write] of writes) {
        await write();
        const now = await store.version();
        assert.ok(now > last, `${what}: version ${now} after ${last}`);
        last = now;
      }
    });

    it('watch() tells of a write on this store once, and nothing after unsubscribing', async () => {
      const seen = await changeAfter(store, () => store.createExperiment('exp', makeSpace(), 's'));
      assert.ok(seen[0].version > 0 && seen[0].at > 0);
      const settled = seen.length;
      await store.addTrial('exp', makeTrial(0)); // after stop(): never reported
      await sleep(10 * INTERVAL_MS);
      assert.equal(seen.length, settled, 'no listener call after unsubscribing');
    });

    // Registered only where another connection can open the store (not a private :memory: database).
    if (!options.readerBeside) return;
    it('a read-only reader opened beside the store sees its writes, and a watch there fires', async () => {
      const { openReader } = fixture();
      assert.ok(openReader, 'readerBeside: the fixture must give openReader');
      await store.createExperiment('exp', makeSpace(), 's');
      const reader = await openReader();
      try {
        const before = await reader.lastEpochRow();
        await store.addTrial('exp', makeTrial(0));
        await store.startTrial('exp', 't0', 'w1');
        await changeAfter(reader, () => store.recordEpoch('exp', 't0', 1, { val_acc: 0.5 }));
        assert.equal((await reader.listEpochs('exp', 't0')).length, 1);
        assert.ok((await reader.lastEpochRow()) > before, 'lastEpochRow grows with an epoch');
      } finally {
        await reader.close();
      }
    });
  });
}
