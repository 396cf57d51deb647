/**
 * Metric bookkeeping: the orchestrator metrics driven through SearchRunner's observer hooks with a real
 * SQLite store (bounded per-trial series, retention, best value, duplicates, retries), and the worker
 * metrics fed by a real TrialPool's threads (synthetic and a real tfjs training trial).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { SearchRunner } from '../orchestrator/core/index.js';
import { OrchestratorMetrics } from '../orchestrator/metrics/index.js';
import { FifoScheduler } from '../orchestrator/schedulers/index.js';
import type { SearchSpace } from '../orchestrator/search-space/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { createStrategy } from '../orchestrator/strategies/index.js';
import { InProcessTransport } from '../orchestrator/transport/index.js';
import { PROTOCOL_VERSION, type ResultEvent, type TrialSpec } from '../shared/protocol/index.js';
import { createMetricsRegistry, startMetricsServer } from '../shared/metrics/index.js';
import { WorkerMetrics } from '../worker/metrics/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { TEST_DATA_DIR } from './helpers/dataset.js';
import { one, parsePrometheusText, type Sample, select } from './helpers/prom-text.js';

function space(goal: 'maximize' | 'minimize' = 'maximize'): SearchSpace {
  return {
    method: 'grid',
    metric: { name: 'val_acc', goal },
    parameters: {
      arch: { kind: 'categorical', values: ['mlp', 'cnn'] },
      learning_rate: { kind: 'constant', value: 0.001 },
      epochs: { kind: 'constant', value: 2 },
    },
    task: 'synthetic',
    seed: 1,
    data: { seed: 1 },
  };
}

async function scrape(registry: Registry): Promise<Sample[]> {
  return parsePrometheusText(await registry.metrics());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('orchestrator metrics (observer hooks, SQLite store)', function () {
  this.timeout(60_000);
  let dir: string;
  let store: SqliteStore;
  let registry: Registry;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-metrics-'));
    store = SqliteStore.open(join(dir, 'm.db'));
    registry = new Registry();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Adds, dispatches and (optionally) finishes trial i the way SearchRunner does, telling `m`. */
  async function dispatch(m: OrchestratorMetrics, exp: string, i: number, attempt = 1): Promise<TrialSpec> {
    const trial_id = `t${i}`;
    await store.addTrial(exp, {
      trial_id,
      index: i,
      params: { arch: i % 2 ? 'cnn' : 'mlp', learning_rate: 0.001 },
      seed: i,
    });
    const started = await store.startTrial(exp, trial_id, null);
    assert.equal(started, attempt);
    const spec: TrialSpec = {
      v: PROTOCOL_VERSION,
      experiment: exp,
      experiment_id: exp,
      trial_id,
      attempt,
      task: 'synthetic',
      params: { arch: i % 2 ? 'cnn' : 'mlp', learning_rate: 0.001 },
      seed: i,
    };
    m.onDispatch(spec, 'in-process');
    return spec;
  }

  function result(
    exp: string,
    i: number,
    value: number,
    state: ResultEvent['state'] = 'completed',
  ): ResultEvent {
    const now = Date.now();
    return {
      v: PROTOCOL_VERSION,
      experiment: exp,
      experiment_id: exp,
      trial_id: `t${i}`,
      attempt: 1,
      state,
      metrics: { val_acc: value, val_loss: 1 - value, test_acc: 0.5 },
      epochs: 2,
      worker: 'w',
      started_at: now - 1500,
      ended_at: now,
    };
  }

  async function finish(m: OrchestratorMetrics, exp: string, r: ResultEvent): Promise<boolean> {
    const applied = await store.recordResult(exp, r.trial_id, r);
    m.onResult(r, applied ? await store.getTrial(exp, r.trial_id) : undefined);
    return applied;
  }

  it('keeps per-trial series for running trials and the top N finished, and follows the best value', async () => {
    await store.createExperiment('e', space(), 'test');
    const m = new OrchestratorMetrics({ registry, store, top: 2, transports: ['in-process'] });
    await m.onStart('e');
    let s = await scrape(registry);
    // Known label values are pre-initialised to 0.
    for (const state of ['completed', 'stopped', 'failed'])
      assert.equal(one(s, 'hpo_trials_ended_total', { experiment: 'e', state }), 0);
    assert.equal(one(s, 'hpo_trial_retries_total', { experiment: 'e' }), 0);
    assert.equal(one(s, 'hpo_duplicate_results_total', { experiment: 'e' }), 0);
    assert.equal(
      one(s, 'hpo_dispatch_latency_seconds_count', { experiment: 'e', transport: 'in-process' }),
      0,
    );
    // The goal is exported, so a dashboard can rank by it.
    const expInfo = select(s, 'hpo_experiment_info');
    assert.equal(expInfo.length, 1);
    assert.equal(expInfo[0].value, 1);
    assert.equal(expInfo[0].labels.experiment, 'e');
    assert.match(expInfo[0].labels.goal, /^(maximize|minimize)$/);
    assert.equal(one(s, 'hpo_invalid_messages_total', { component: 'orchestrator' }), 0);
    assert.equal(select(s, 'hpo_best_value').length, 0);

    const values = [0.5, 0.9, 0.7, 0.8, 0.6];
    for (let i = 0; i < values.length; i++) await dispatch(m, 'e', i);
    m.onEpoch({
      v: PROTOCOL_VERSION,
      experiment: 'e',
      experiment_id: 'e',
      trial_id: 't0',
      attempt: 1,
      epoch: 1,
      worker: 'w',
      metrics: { val_acc: 0.4, val_loss: 0.6, train_loss: 2 },
    });
    s = await scrape(registry);
    assert.equal(one(s, 'hpo_trials_running', { experiment: 'e' }), 5);
    assert.equal(one(s, 'hpo_trials', { experiment: 'e', state: 'running' }), 5);
    assert.equal(one(s, 'hpo_trial_epoch', { experiment: 'e', trial_id: 't0' }), 1);
    assert.equal(one(s, 'hpo_trial_value', { experiment: 'e', trial_id: 't0' }), 0.4);
    assert.equal(one(s, 'hpo_trial_metric', { experiment: 'e', trial_id: 't0', metric: 'val_loss' }), 0.6);
    assert.equal(
      select(s, 'hpo_trial_metric', { metric: 'train_loss' }).length,
      0,
      'only val_* and the objective',
    );
    const info = select(s, 'hpo_trial_info', { experiment: 'e', trial_id: 't1' });
    assert.equal(info.length, 1);
    assert.deepEqual(info[0].labels, {
      experiment: 'e',
      trial_id: 't1',
      state: 'running',
      arch: 'cnn',
      optimizer: '',
      learning_rate: '0.001',
      batch_size: '',
      params: 'arch=cnn,learning_rate=0.001',
    });

    for (let i = 0; i < values.length; i++) await finish(m, 'e', result('e', i, values[i]));
    s = await scrape(registry);
    assert.equal(one(s, 'hpo_trials_running', { experiment: 'e' }), 0);
    assert.equal(one(s, 'hpo_trials', { experiment: 'e', state: 'completed' }), 5);
    assert.equal(one(s, 'hpo_trials_ended_total', { experiment: 'e', state: 'completed' }), 5);
    assert.equal(one(s, 'hpo_best_value', { experiment: 'e', metric: 'val_acc' }), 0.9);
    // Top 2 by val_acc: t1 (0.9), t3 (0.8); the others' series are gone.
    const kept = (name: string) =>
      [...new Set(select(s, name, { experiment: 'e' }).map((x) => x.labels.trial_id))].sort();
    for (const name of ['hpo_trial_value', 'hpo_trial_epoch', 'hpo_trial_info', 'hpo_trial_metric']) {
      assert.deepEqual(kept(name), ['t1', 't3'], name);
    }
    assert.equal(one(s, 'hpo_trial_value', { experiment: 'e', trial_id: 't1' }), 0.9);
    assert.equal(select(s, 'hpo_trial_info', { trial_id: 't1', state: 'completed' }).length, 1);
    assert.equal(select(s, 'hpo_trial_info', { trial_id: 't1', state: 'running' }).length, 0);
    assert.equal(
      one(s, 'hpo_trial_duration_seconds_count', {
        experiment: 'e',
        arch: 'cnn',
        backend: 'none',
        state: 'completed',
      }),
      2,
    );
    assert.equal(
      one(s, 'hpo_trial_duration_seconds_count', { arch: 'mlp', backend: 'none', state: 'completed' }),
      3,
    );
    assert.equal(one(s, 'hpo_dispatch_latency_seconds_count', { transport: 'in-process' }), 5);
  });

  it('counts duplicate results and retries; a failed trial never becomes the best', async () => {
    await store.createExperiment('d', space('minimize'), 'test');
    const m = new OrchestratorMetrics({ registry, store });
    await m.onStart('d');
    await dispatch(m, 'd', 0);
    await dispatch(m, 'd', 1);
    assert.equal(await finish(m, 'd', result('d', 0, 0.3)), true);
    assert.equal(await finish(m, 'd', result('d', 0, 0.1)), false); // redelivered: the first result wins
    assert.equal(await finish(m, 'd', { ...result('d', 1, 0.01, 'failed'), error: 'boom' }), true);
    // An interrupted trial re-run gets attempt 2.
    await store.addTrial('d', { trial_id: 't2', index: 2, params: { arch: 'mlp' }, seed: 2 });
    await store.startTrial('d', 't2', null);
    await store.requeueRunning('d');
    m.onDispatch(
      { ...dispatchSpec('d', 2), attempt: (await store.startTrial('d', 't2', null))! },
      'in-process',
    );
    const s = await scrape(registry);
    assert.equal(one(s, 'hpo_duplicate_results_total', { experiment: 'd' }), 1);
    assert.equal(one(s, 'hpo_trial_retries_total', { experiment: 'd' }), 1);
    assert.equal(one(s, 'hpo_best_value', { experiment: 'd', metric: 'val_acc' }), 0.3);
    assert.equal(one(s, 'hpo_trials_ended_total', { experiment: 'd', state: 'failed' }), 1);
    assert.equal(one(s, 'hpo_trials_ended_total', { experiment: 'd', state: 'completed' }), 1);
  });

  function dispatchSpec(exp: string, i: number): TrialSpec {
    return {
      v: PROTOCOL_VERSION,
      experiment: exp,
      experiment_id: exp,
      trial_id: `t${i}`,
      attempt: 1,
      task: 'synthetic',
      params: { arch: 'mlp' },
      seed: i,
    };
  }

  it('drops every series of an experiment --metrics-retention seconds after its run ends', async () => {
    await store.createExperiment('r', space(), 'test');
    await store.createExperiment('other', space(), 'test');
    const m = new OrchestratorMetrics({ registry, store, retentionSeconds: 0.2 });
    await m.onStart('r');
    await m.onStart('other');
    await dispatch(m, 'r', 0);
    await finish(m, 'r', result('r', 0, 0.5));
    await dispatch(m, 'r', 1); // still running when the run is interrupted
    m.onEnd('r', 'interrupted');
    let s = await scrape(registry);
    assert.equal(one(s, 'hpo_trials_running', { experiment: 'r' }), 0);
    assert.equal(select(s, 'hpo_trial_info', { experiment: 'r', trial_id: 't1' }).length, 0);
    assert.equal(
      one(s, 'hpo_trial_value', { experiment: 'r', trial_id: 't0' }),
      0.5,
      'kept until retention ends',
    );
    await sleep(400);
    s = await scrape(registry);
    assert.deepEqual(
      s.filter((x) => x.labels.experiment === 'r').map((x) => x.name),
      [],
      'no series of the ended experiment',
    );
    assert.equal(one(s, 'hpo_trials_running', { experiment: 'other' }), 0, 'other experiments stay');
    assert.deepEqual(m.trackedExperiments(), ['other']);
    m.close();
  });

  it('resume: finished trials from the store rank from the start (SearchRunner with a real pool)', async () => {
    await store.createExperiment(
      's',
      { ...space(), parameters: { ...space().parameters, sleep_ms: { kind: 'constant', value: 20 } } },
      'test',
    );
    const pool = new TrialPool({ threads: 2, backend: 'cpu' });
    const m = new OrchestratorMetrics({ registry, store, top: 1, transports: ['in-process'] });
    new WorkerMetrics({ registry, worker: pool.name, pool });
    try {
      const outcome = await new SearchRunner({
        store,
        transport: new InProcessTransport(pool),
        strategy: createStrategy((await store.getExperiment('s'))!.space),
        scheduler: new FifoScheduler(),
        experiment: 's',
        observer: m,
      }).run();
      assert.equal(outcome.status, 'completed');
    } finally {
      await pool.close();
    }
    let s = await scrape(registry);
    const board = await store.leaderboard('s');
    assert.equal(one(s, 'hpo_best_value', { experiment: 's', metric: 'val_acc' }), board[0].value);
    assert.deepEqual(
      select(s, 'hpo_trial_value', { experiment: 's' }).map((x) => x.labels.trial_id),
      [board[0].trial_id],
    );
    assert.equal(one(s, 'hpo_trials_ended_total', { experiment: 's', state: 'completed' }), 2);
    assert.equal(one(s, 'hpo_worker_trials_total', { worker: pool.name, state: 'completed' }), 2);
    assert.equal(
      one(s, 'hpo_worker_epoch_duration_seconds_count', { worker: pool.name, arch: 'mlp', backend: 'none' }),
      2,
    );

    // A new process resuming it: the best and top trial come from the store before any trial runs.
    const fresh = new Registry();
    const again = new OrchestratorMetrics({ registry: fresh, store, top: 1 });
    await again.onStart('s');
    s = await scrape(fresh);
    assert.equal(one(s, 'hpo_best_value', { experiment: 's', metric: 'val_acc' }), board[0].value);
    assert.equal(one(s, 'hpo_trial_value', { experiment: 's', trial_id: board[0].trial_id }), board[0].value);
    assert.equal(one(s, 'hpo_trials', { experiment: 's', state: 'completed' }), 2);
  });
});

describe('worker metrics (real TrialPool threads)', function () {
  this.timeout(180_000);

  it('slots, busy slots, epochs, trial ends and a cancelled trial from the synthetic task', async () => {
    const registry = createMetricsRegistry();
    const pool = new TrialPool({ threads: 2, backend: 'cpu', name: 'wp' });
    new WorkerMetrics({ registry, worker: 'wp', pool });
    const spec = (i: number, params: TrialSpec['params']): TrialSpec => ({
      v: PROTOCOL_VERSION,
      experiment: 'x',
      experiment_id: 'x',
      trial_id: `t${i}`,
      attempt: 1,
      task: 'synthetic',
      params,
      seed: i,
    });
    const hooks = (signal = new AbortController().signal) => ({
      onEpoch: async () => 'continue' as const,
      signal,
    });
    try {
      const running = pool.run(spec(0, { epochs: 3, sleep_ms: 300 }), hooks());
      const abort = new AbortController();
      const cancelled = pool.run(spec(1, { epochs: 20, sleep_ms: 300 }), hooks(abort.signal));
      await sleep(400);
      let s = await scrape(registry);
      assert.equal(one(s, 'hpo_worker_slots', { worker: 'wp' }), 2);
      assert.equal(one(s, 'hpo_worker_busy_slots', { worker: 'wp' }), 2);
      assert.ok(select(s, 'process_cpu_user_seconds_total').length === 1, 'default process metrics');
      abort.abort();
      await assert.rejects(cancelled);
      await running;
      const failed = await pool.run(spec(2, { epochs: 2, sleep_ms: 10, fail_at_epoch: 2 }), hooks());
      assert.equal(failed.state, 'failed');
      s = await scrape(registry);
      assert.equal(one(s, 'hpo_worker_busy_slots', { worker: 'wp' }), 0);
      assert.equal(one(s, 'hpo_worker_trials_total', { worker: 'wp', state: 'completed' }), 1);
      assert.equal(one(s, 'hpo_worker_trials_total', { worker: 'wp', state: 'cancelled' }), 1);
      assert.equal(one(s, 'hpo_worker_trials_total', { worker: 'wp', state: 'failed' }), 1);
      assert.equal(one(s, 'hpo_worker_errors_total', { worker: 'wp', kind: 'trial' }), 1);
      const epochs = one(s, 'hpo_worker_epoch_duration_seconds_count', {
        worker: 'wp',
        arch: 'synthetic',
        backend: 'none',
      });
      assert.ok(epochs >= 4, `${epochs} epochs observed`); // 3 of t0, 1 of t2, and t1's before the abort
      const sum = one(s, 'hpo_worker_epoch_duration_seconds_sum', {
        worker: 'wp',
        arch: 'synthetic',
        backend: 'none',
      });
      assert.ok(sum >= 0.3 * 3, `epoch seconds sum ${sum}`);
      assert.equal(
        select(s, 'hpo_worker_train_images_total').length,
        0,
        'the synthetic task trains no images',
      );
      assert.equal(one(s, 'hpo_worker_tfjs_memory_bytes', { worker: 'wp' }), 0, 'no tfjs in these threads');
    } finally {
      await pool.close();
    }
  });

  it('a real training trial reports its images, backend and tfjs memory', async () => {
    const registry = createMetricsRegistry();
    const pool = new TrialPool({ threads: 1, backend: 'auto', name: 'wt', dataDir: TEST_DATA_DIR });
    new WorkerMetrics({ registry, worker: 'wt', pool });
    let memoryDuring = 0;
    const server = await startMetricsServer({ registry, port: 0 });
    try {
      const result = await pool.run(
        {
          v: PROTOCOL_VERSION,
          experiment: 'x',
          experiment_id: 'x',
          trial_id: 't0',
          attempt: 1,
          task: 'multi-digit-mnist',
          params: {
            arch: 'mlp',
            optimizer: 'adam',
            learning_rate: 0.001,
            batch_size: 64,
            epochs: 2,
            train_size: 256,
          },
          seed: 1,
          data: { seed: 1 },
        },
        {
          signal: new AbortController().signal,
          onEpoch: async () => {
            // Over HTTP, as Prometheus would read it, while the trial runs.
            const text = await (await fetch(server.url)).text();
            memoryDuring = one(parsePrometheusText(text), 'hpo_worker_tfjs_memory_bytes', { worker: 'wt' });
            return 'continue';
          },
        },
      );
      assert.equal(result.state, 'completed', result.error);
      const backend = result.backend!;
      const s = await scrape(registry);
      assert.equal(one(s, 'hpo_worker_train_images_total', { worker: 'wt', arch: 'mlp', backend }), 2 * 256);
      assert.equal(
        one(s, 'hpo_worker_epoch_duration_seconds_count', { worker: 'wt', arch: 'mlp', backend }),
        2,
      );
      assert.ok(memoryDuring > 0, `tfjs memory while training: ${memoryDuring}`);
      assert.ok(one(s, 'hpo_worker_tfjs_tensors', { worker: 'wt' }) >= 0);
    } finally {
      await server.close();
      await pool.close();
    }
  });
});
