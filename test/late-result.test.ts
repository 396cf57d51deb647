/**
 * The runner's duplicate-result guard, reached for real: a SearchRunner over a NatsTransport and a
 * NatsWorker on a real nats-server, and a late second result of a finished trial published on the bus
 * under another delivery's message id (as a worker frozen past ack_wait publishes it). The transport
 * hands it to the runner; the store keeps the first result and the runner counts the trial once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { SearchRunner } from '../orchestrator/core/index.js';
import { FifoScheduler } from '../orchestrator/schedulers/index.js';
import type { SearchSpace } from '../orchestrator/search-space/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { createStrategy } from '../orchestrator/strategies/index.js';
import { NatsTransport } from '../orchestrator/transport/nats/index.js';
import { publishResult } from '../shared/nats/index.js';
import { busNames, DEFAULT_SUBJECT_PREFIX } from '../shared/protocol/bus.js';
import type { ResultEvent } from '../shared/protocol/index.js';
import { connectNats, NatsWorker } from '../worker/nats/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { silentLogger } from '../shared/log/index.js';

const SPACE: SearchSpace = {
  method: 'grid',
  metric: { name: 'val_acc', goal: 'maximize' },
  parameters: {
    a: { kind: 'categorical', values: [1, 2, 3] },
    epochs: { kind: 'constant', value: 2 },
    sleep_ms: { kind: 'constant', value: 100 },
  },
  task: 'synthetic',
  seed: 3,
  data: { seed: 1 },
};

describe('a late duplicate result reaches the orchestrator and is not counted twice (real nats-server)', function () {
  this.timeout(120_000);
  let server: NatsServerHandle;
  let dir: string;

  before(async () => {
    server = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'hpo-late-'));
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the store keeps the first result; progress counts 3 of 3; the late copy was delivered to the runner', async () => {
    const store = SqliteStore.open(join(dir, 'late.db'));
    await store.createExperiment('late', SPACE, 'test');
    const wnc = await connectNats({ servers: [server.url], name: 'w' });
    const worker = new NatsWorker(wnc, new TrialPool({ threads: 1, backend: 'cpu', name: 'w' }), {
      name: 'w',
      backend: 'cpu',
      logger: silentLogger(),
      fetchExpiresMs: 1000,
    });
    await worker.start();
    const onc = await connectNats({ servers: [server.url], name: 'o' });
    const exp = (await store.getExperiment('late'))!;
    const transport = new NatsTransport(onc, {
      experiments: [{ name: 'late', id: exp.bus_id, secret: exp.bus_secret }],
      maxInFlight: 1,
      logger: silentLogger(),
    });
    const js = jetstream(onc);
    const names = busNames(DEFAULT_SUBJECT_PREFIX);
    const seen: { r: ResultEvent; applied: boolean }[] = [];
    let late: Promise<void> | undefined;
    try {
      const outcome = await new SearchRunner({
        store,
        transport,
        strategy: createStrategy(SPACE),
        scheduler: new FifoScheduler(),
        experiment: 'late',
        total: 3,
        observer: {
          onResult: (r, record) => {
            seen.push({ r, applied: record !== undefined });
            // The first trial's result, again, later and better, from "another delivery" (id /d9).
            if (r.trial_id === 't0000' && !late) {
              late = publishResult(
                js,
                names,
                { ...r, worker: 'frozen', metrics: { ...r.metrics, val_acc: 0.999 } },
                9,
              );
            }
          },
        },
      }).run();
      await late;
      assert.equal(outcome.status, 'completed');
      assert.deepEqual(
        [outcome.progress.completed, outcome.progress.done],
        [3, 3],
        'the late duplicate was counted',
      );
      // The late copy reached the runner (4 results for 3 trials) and was not applied.
      const copies = seen.filter((s) => s.r.trial_id === 't0000');
      assert.deepEqual(
        copies.map((s) => [s.r.worker, s.applied]),
        [
          ['w', true],
          ['frozen', false],
        ],
      );
      const first = (await store.getTrial('late', 't0000'))!;
      assert.equal(first.worker, 'w');
      assert.notEqual(first.value, 0.999);
      assert.equal(transport.stats().resultsApplied, 4);
    } finally {
      await transport.close();
      await worker.close();
      await store.close();
    }
  });
});
