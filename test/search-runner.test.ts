import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchRunner, type SearchProgress } from '../orchestrator/core/index.js';
import { FifoScheduler } from '../orchestrator/schedulers/index.js';
import type { SearchSpace } from '../orchestrator/search-space/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { createStrategy } from '../orchestrator/strategies/index.js';
import {
  InProcessTransport,
  type Transport,
  type TransportHandlers,
} from '../orchestrator/transport/index.js';
import type { ResultEvent, TrialSpec } from '../shared/protocol/index.js';
import { TrialPool } from '../worker/pool/index.js';

function gridSpace(sleepMs: number): SearchSpace {
  return {
    method: 'grid',
    metric: { name: 'val_acc', goal: 'maximize' },
    parameters: {
      a: { kind: 'categorical', values: [1, 2, 3] },
      b: { kind: 'categorical', values: ['x', 'y'] },
      c: { kind: 'categorical', values: [0.1, 0.01] },
      epochs: { kind: 'constant', value: 3 },
      sleep_ms: { kind: 'constant', value: sleepMs },
    },
    task: 'synthetic',
    seed: 3,
    data: { seed: 1 },
  };
}

describe('SearchRunner (SQLite file, in-process pool, synthetic task)', function () {
  this.timeout(120_000);
  let dir: string;
  let pool: TrialPool;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-runner-'));
    pool = new TrialPool({ threads: 2, backend: 'cpu' });
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A transport over the shared pool whose close() leaves the pool running. */
  const transport = () => {
    const t = new InProcessTransport({
      slots: pool.slots,
      name: pool.name,
      run: (s, h) => pool.run(s, h),
      close: async () => {},
    });
    return t;
  };

  async function run(
    store: SqliteStore,
    name: string,
    options: { signal?: AbortSignal; onProgress?: (p: SearchProgress) => void } = {},
  ) {
    const space = (await store.getExperiment(name))!.space;
    return new SearchRunner({
      store,
      transport: transport(),
      strategy: createStrategy(space),
      scheduler: new FifoScheduler(),
      experiment: name,
      total: 12,
      ...options,
    }).run();
  }

  it('a 3x2x2 grid runs exactly 12 distinct trials, each completed once, ranked by the metric', async () => {
    const store = SqliteStore.open(join(dir, 'grid.db'));
    await store.createExperiment('g', gridSpace(0), 'test');
    const outcome = await run(store, 'g');
    assert.equal(outcome.status, 'completed');
    const trials = await store.listTrials('g');
    assert.equal(trials.length, 12);
    assert.equal(new Set(trials.map((t) => JSON.stringify(t.params))).size, 12);
    for (const t of trials) {
      assert.equal(t.state, 'completed');
      assert.equal(t.attempt, 1);
      assert.equal(t.epochs, 3);
      assert.equal((await store.listEpochs('g', t.trial_id)).length, 3);
    }
    const board = await store.leaderboard('g');
    assert.equal(board.length, 12);
    for (let i = 1; i < board.length; i++) assert.ok(board[i - 1].value! >= board[i].value!);
    assert.equal(outcome.progress.best?.trial_id, board[0].trial_id);
    assert.equal((await store.getExperiment('g'))!.status, 'completed');
    await store.close();
  });

  it('a scheduler is shown the running trials only (ended ones reach trialFinished), and each epoch once', async () => {
    const store = SqliteStore.open(join(dir, 'sched.db'));
    await store.createExperiment('s', gridSpace(0), 'test');
    const seen: { trial: string; epoch: number; running: number; ended: number }[] = [];
    const finished: string[] = [];
    const outcome = await new SearchRunner({
      store,
      transport: transport(),
      strategy: createStrategy((await store.getExperiment('s'))!.space),
      scheduler: {
        name: 'recording',
        decide: (trial, epoch, all) => {
          // Recorded, not asserted here: a throwing scheduler only counts as continue.
          const ended = all.filter((t) => finished.includes(t.trial_id)).length;
          seen.push({ trial: trial.trial_id, epoch, running: all.length, ended });
          return 'continue';
        },
        trialFinished: (t) => void finished.push(t.trial_id),
      },
      experiment: 's',
    }).run();
    assert.equal(outcome.status, 'completed');
    assert.equal(finished.length, 12);
    // 12 trials x 3 epochs, the last epoch of each included; never more trials than the pool's 2 slots.
    assert.equal(seen.length, 36);
    assert.equal(new Set(seen.map((e) => `${e.trial}/${e.epoch}`)).size, 36);
    assert.ok(Math.max(...seen.map((e) => e.running)) <= pool.slots);
    assert.deepEqual(
      seen.filter((e) => e.ended > 0),
      [],
      'an ended trial shown among the running',
    );
    await store.close();
  });

  it('interrupted midway, then resumed: every trial ends exactly once and finished ones are not re-run', async () => {
    const file = join(dir, 'resume.db');
    let store = SqliteStore.open(file);
    await store.createExperiment('r', gridSpace(40), 'test');
    const controller = new AbortController();
    const first = await run(store, 'r', {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 4) controller.abort();
      },
    });
    assert.equal(first.status, 'interrupted');
    const before = new Map((await store.listTrials('r')).map((t) => [t.trial_id, t]));
    const finishedBefore = [...before.values()].filter((t) => t.state === 'completed');
    assert.ok(finishedBefore.length >= 4 && finishedBefore.length < 12, `${finishedBefore.length} finished`);
    assert.ok([...before.values()].every((t) => t.state === 'completed' || t.state === 'pending'));
    assert.equal((await store.getExperiment('r'))!.status, 'interrupted');
    await store.close();

    store = SqliteStore.open(file); // as a new process would
    const second = await run(store, 'r');
    assert.equal(second.status, 'completed');
    const after = await store.listTrials('r');
    assert.equal(after.length, 12);
    assert.equal(new Set(after.map((t) => t.trial_id)).size, 12);
    assert.ok(after.every((t) => t.state === 'completed'));
    for (const t of finishedBefore) {
      const now = after.find((x) => x.trial_id === t.trial_id)!;
      assert.equal(now.attempt, t.attempt, `${t.trial_id} re-ran`);
      assert.equal(now.ended_at, t.ended_at);
    }
    // Same grid order as an uninterrupted run.
    const fresh = SqliteStore.open(join(dir, 'fresh.db'));
    await fresh.createExperiment('r', gridSpace(40), 'test');
    await run(fresh, 'r');
    assert.deepEqual(
      after.map((t) => t.params),
      (await fresh.listTrials('r')).map((t) => t.params),
    );
    await fresh.close();
    await store.close();
  });

  it('a trial whose task throws ends failed with its error; the search still completes', async () => {
    const store = SqliteStore.open(join(dir, 'fail.db'));
    const space = gridSpace(0);
    space.parameters = {
      a: { kind: 'categorical', values: [1, 2] },
      fail_at_epoch: { kind: 'categorical', values: [0, 2] },
    };
    await store.createExperiment('f', space, 'test');
    const outcome = await run(store, 'f');
    assert.equal(outcome.status, 'completed');
    const failed = (await store.listTrials('f')).filter((t) => t.state === 'failed');
    assert.equal(failed.length, 2);
    for (const t of failed) assert.match(t.error ?? '', /synthetic failure at epoch 2/);
    assert.equal(outcome.progress.failed, 2);
    await store.close();
  });

  it('a result delivered twice (a late delivery after a redelivery) is recorded and reported once', async () => {
    const store = SqliteStore.open(join(dir, 'twice.db'));
    const space = gridSpace(0);
    space.parameters = { a: { kind: 'categorical', values: [1, 2] } };
    await store.createExperiment('twice', space, 'test');
    const reported: string[] = [];
    const outcome = await new SearchRunner({
      store,
      transport: new TwiceTransport(),
      strategy: createStrategy(space),
      scheduler: new FifoScheduler(),
      experiment: 'twice',
      onProgress: (p) => {
        if (p.event.kind === 'result') reported.push(p.event.trial_id!);
      },
    }).run();
    await new Promise((r) => setTimeout(r, 100)); // the last late result is handed over after the run ends
    assert.equal(outcome.progress.completed, 2);
    assert.deepEqual(reported.sort(), ['t0000', 't0001']);
    assert.deepEqual(
      (await store.listTrials('twice')).map((t) => [t.trial_id, t.state, t.worker]),
      [
        ['t0000', 'completed', 'first'],
        ['t0001', 'completed', 'first'],
      ],
    );
    await store.close();
  });

  it('over a queueing transport, progress counts running (a worker started it) and queued apart, as hpo status does', async () => {
    const store = SqliteStore.open(join(dir, 'queued.db'));
    const space = gridSpace(0);
    space.parameters = {
      a: { kind: 'categorical', values: [1, 2] },
      b: { kind: 'categorical', values: ['x', 'y'] },
    };
    await store.createExperiment('q', space, 'test');
    const queue = new QueueTransport();
    const seen: SearchProgress[] = [];
    const running = new SearchRunner({
      store,
      transport: queue,
      strategy: createStrategy(space),
      scheduler: new FifoScheduler(),
      experiment: 'q',
      onProgress: (p) => seen.push(p),
    }).run();
    while (queue.specs.length < 4) await new Promise((r) => setTimeout(r, 5));
    const last = () => seen[seen.length - 1];
    assert.deepEqual([last().running, last().queued], [0, 4], 'dispatched, none started');
    const [first, ...rest] = queue.specs;
    await queue.start1(first);
    assert.deepEqual([last().event.kind, last().running, last().queued], ['started', 1, 3]);
    assert.equal(
      (await store.getTrial('q', first.trial_id))!.state,
      'running',
      'the store (hpo status) agrees',
    );
    await queue.finish(first);
    assert.deepEqual([last().done, last().running, last().queued], [1, 0, 3]);
    for (const spec of rest) await queue.finish(spec);
    const outcome = await running;
    assert.deepEqual([outcome.progress.done, outcome.progress.running, outcome.progress.queued], [4, 0, 0]);
    await store.close();
  });

  /** An endless space (a continuous parameter, no run_cap): only a budget or a target ends it. */
  function endlessSpace(sleepMs: number, epochs: number): SearchSpace {
    return {
      method: 'random',
      metric: { name: 'val_acc', goal: 'maximize' },
      parameters: {
        x: { kind: 'uniform', min: 0, max: 1 },
        epochs: { kind: 'constant', value: epochs },
        sleep_ms: { kind: 'constant', value: sleepMs },
      },
      task: 'synthetic',
      seed: 5,
      data: { seed: 1 },
    };
  }

  it('a time budget: no trial starts after it, and the search ends within one trial of it', async () => {
    const store = SqliteStore.open(join(dir, 'budget.db'));
    await store.createExperiment('b', endlessSpace(100, 3), 'test');
    const seen: SearchProgress[] = [];
    const start = Date.now();
    const outcome = await new SearchRunner({
      store,
      transport: transport(),
      strategy: createStrategy((await store.getExperiment('b'))!.space),
      scheduler: new FifoScheduler(),
      experiment: 'b',
      timeBudget: { seconds: 2 },
      onProgress: (p) => seen.push(p),
    }).run();
    const end = Date.now();
    assert.equal(outcome.status, 'completed');
    assert.equal(outcome.reason, 'time_budget');
    const deadline = seen[0].deadline!;
    assert.ok(deadline >= start + 2000 && deadline <= end, 'the deadline is the run start + 2 s');
    const trials = await store.listTrials('b');
    assert.ok(trials.length >= 2, `${trials.length} trials`);
    assert.ok(trials.every((t) => t.state === 'completed'));
    // Every trial was dispatched before the budget ran out; the run ended when the last of them did.
    for (const t of trials) assert.ok(t.started_at! <= deadline, `${t.trial_id} started after the budget`);
    const longest = Math.max(...trials.map((t) => t.ended_at! - t.started_at!));
    const lastEnd = Math.max(...trials.map((t) => t.ended_at!));
    assert.ok(lastEnd <= deadline + longest, 'the last trial ended within one trial duration of the budget');
    assert.ok(lastEnd >= deadline - longest, 'the budget was used: trials ran up to it');
    await store.close();
  });

  it('a hard time budget cancels running trials: they stay pending and the experiment resumable', async () => {
    const store = SqliteStore.open(join(dir, 'hard.db'));
    await store.createExperiment('h', endlessSpace(200, 50), 'test'); // 10 s trials
    const outcome = await new SearchRunner({
      store,
      transport: transport(),
      strategy: createStrategy((await store.getExperiment('h'))!.space),
      scheduler: new FifoScheduler(),
      experiment: 'h',
      timeBudget: { seconds: 1, hard: true },
    }).run();
    assert.equal(outcome.status, 'interrupted');
    assert.equal(outcome.reason, 'time_budget');
    const trials = await store.listTrials('h');
    assert.equal(trials.length, pool.slots);
    assert.ok(
      trials.every((t) => t.state === 'pending'),
      JSON.stringify(trials.map((t) => t.state)),
    );
    assert.equal((await store.getExperiment('h'))!.status, 'interrupted');
    await store.close();
  });

  it('metric.target: once a trial reaches it, no new trial starts', async () => {
    const store = SqliteStore.open(join(dir, 'target.db'));
    const space = endlessSpace(0, 2);
    space.metric.target = 0.1; // every synthetic val_acc after 2 epochs is above 0.1
    space.run_cap = 50;
    await store.createExperiment('t', space, 'test');
    const outcome = await new SearchRunner({
      store,
      transport: transport(),
      strategy: createStrategy(space),
      scheduler: new FifoScheduler(),
      experiment: 't',
    }).run();
    assert.equal(outcome.status, 'completed');
    assert.equal(outcome.reason, 'target');
    const trials = await store.listTrials('t');
    assert.ok(trials.length <= 2 * pool.slots, `${trials.length} trials ran after the target was reached`);
    assert.ok(trials.every((t) => t.state === 'completed'));
    await store.close();
  });
});

/** Ends each trial at once, then hands its result over a second time (a late delivery's). */
class TwiceTransport implements Transport {
  readonly name = 'twice';
  private handlers?: TransportHandlers;
  private running = 0;

  async start(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
  }
  capacity(): number {
    return 2 - this.running;
  }
  inFlight(): number {
    return this.running;
  }
  async submit(spec: TrialSpec): Promise<void> {
    this.running++;
    const result = (worker: string): ResultEvent => ({
      v: spec.v,
      experiment: spec.experiment,
      experiment_id: spec.experiment_id,
      trial_id: spec.trial_id,
      attempt: spec.attempt,
      state: 'completed',
      metrics: { val_acc: 0.5 },
      epochs: 0,
      worker,
      started_at: Date.now(),
      ended_at: Date.now(),
    });
    setImmediate(() => {
      this.running--;
      void this.handlers!.onResult(result('first')).then(() => this.handlers!.onResult(result('late')));
    });
  }
  async cancel(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A bus-like transport: trials wait in a queue until the test starts (onStarted) and finishes them. */
class QueueTransport implements Transport {
  readonly name = 'queue';
  readonly queues = true;
  readonly specs: TrialSpec[] = [];
  private handlers?: TransportHandlers;
  private open = 0;

  async start(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
  }
  capacity(): number {
    return 4 - this.open;
  }
  inFlight(): number {
    return this.open;
  }
  async submit(spec: TrialSpec): Promise<void> {
    this.open++;
    this.specs.push(spec);
  }
  start1(spec: TrialSpec): Promise<void> {
    return this.handlers!.onStarted!({ ...spec, worker: 'w' });
  }
  async finish(spec: TrialSpec): Promise<void> {
    this.open--;
    await this.handlers!.onResult({
      v: spec.v,
      experiment: spec.experiment,
      experiment_id: spec.experiment_id,
      trial_id: spec.trial_id,
      attempt: spec.attempt,
      state: 'completed',
      metrics: { val_acc: 0.5 },
      epochs: 0,
      worker: 'w',
      started_at: Date.now(),
      ended_at: Date.now(),
    });
  }
  async cancel(): Promise<void> {}
  async close(): Promise<void> {}
}
