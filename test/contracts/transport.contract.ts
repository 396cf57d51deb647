/**
 * The behaviour every Transport must have, run against each implementation (in-process now, NATS
 * later) with the `synthetic` task, so distribution is a drop-in. Executors must offer the user tasks
 * of contractUserTasks() (a task module and a command program).
 */
import assert from 'node:assert/strict';
import type { Transport, TransportHandlers } from '../../orchestrator/transport/index.js';
import {
  type Decision,
  type EpochEvent,
  PROTOCOL_VERSION,
  type ResultEvent,
  type TrialParams,
  type TrialSpec,
} from '../../shared/protocol/index.js';
import { contractUserTasks } from './user-tasks.fixture.js';

export interface TransportFixture {
  transport: Transport;
  cleanup(): Promise<void>;
  /**
   * For a transport that routes trials by task (NATS): the tasks whose queued trials no worker offers.
   * Such a trial waits for a worker that offers its task instead of failing.
   */
  waitingForWorkers?: () => { task: string; trials: number }[];
}

/** Records everything a transport delivers; decisions come from `decide`. */
export class Recorder implements TransportHandlers {
  epochs: EpochEvent[] = [];
  results: ResultEvent[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  constructor(public decide: (e: EpochEvent) => Decision = () => 'continue') {}

  async onEpoch(e: EpochEvent): Promise<Decision> {
    this.epochs.push(e);
    return this.decide(e);
  }

  /** Per trial id: the epochs the handler had seen when its result arrived. */
  epochsAtResult = new Map<string, number[]>();

  async onResult(r: ResultEvent): Promise<void> {
    this.epochsAtResult.set(
      r.trial_id,
      this.epochs.filter((e) => e.trial_id === r.trial_id).map((e) => e.epoch),
    );
    this.results.push(r);
    this.waiters = this.waiters.filter((w) => (this.results.length >= w.n ? (w.resolve(), false) : true));
  }

  /** Resolves once `n` results arrived (fails the test after `ms`). */
  waitForResults(n: number, ms = 30_000): Promise<void> {
    if (this.results.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.results.length}/${n} results after ${ms} ms`)),
        ms,
      );
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

let counter = 0;
function spec(experiment: string, params: TrialParams, seed = 1): TrialSpec {
  return {
    v: PROTOCOL_VERSION,
    experiment,
    experiment_id: experiment,
    trial_id: `t${++counter}`,
    attempt: 1,
    task: 'synthetic',
    params,
    seed,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TransportContractOptions {
  /** Runs in the suite's `before` (e.g. skipUnlessNativeBackend for a pool on backend tensorflow). */
  before?: (ctx: Mocha.Context) => void;
}

export function transportContract(
  name: string,
  factory: () => Promise<TransportFixture>,
  options: TransportContractOptions = {},
): void {
  describe(`Transport contract: ${name}`, function () {
    this.timeout(60_000);
    before(function () {
      options.before?.(this);
    });
    let fx: TransportFixture;
    let rec: Recorder;

    beforeEach(async () => {
      fx = await factory();
      rec = new Recorder();
      await fx.transport.start(rec);
    });
    afterEach(() => fx.cleanup());

    it('runs every submitted trial and delivers each result once, after its epochs', async () => {
      const specs = Array.from({ length: 5 }, (_, i) => spec('e1', { x: i + 1, epochs: 3, sleep_ms: 5 }));
      for (const s of specs) await fx.transport.submit(s);
      await rec.waitForResults(5);
      await sleep(100); // a duplicate would show up here
      assert.deepEqual(rec.results.map((r) => r.trial_id).sort(), specs.map((s) => s.trial_id).sort());
      for (const r of rec.results) {
        assert.equal(r.state, 'completed');
        assert.equal(r.epochs, 3);
        assert.equal(r.v, PROTOCOL_VERSION);
        const epochs = rec.epochs.filter((e) => e.trial_id === r.trial_id).map((e) => e.epoch);
        assert.deepEqual(epochs, [1, 2, 3]);
        assert.deepEqual(rec.epochsAtResult.get(r.trial_id), [1, 2, 3], 'every epoch before the result');
        assert.ok(r.metrics.val_acc > 0 && r.metrics.val_acc <= 1);
        assert.ok(r.ended_at >= r.started_at);
      }
      assert.equal(fx.transport.inFlight(), 0);
    });

    it('decisions: false: every epoch reaches the handler before the result, and its answers are not used', async () => {
      rec.decide = () => 'stop';
      const specs = Array.from({ length: 4 }, (_, i) => ({
        ...spec('e7', { x: i + 1, epochs: 4, sleep_ms: i % 2 === 0 ? 0 : 5 }),
        decisions: false,
      }));
      for (const s of specs) await fx.transport.submit(s);
      await rec.waitForResults(4);
      for (const r of rec.results) {
        assert.equal(r.state, 'completed', 'a stop answer is not asked for');
        assert.equal(r.epochs, 4);
        assert.deepEqual(rec.epochsAtResult.get(r.trial_id), [1, 2, 3, 4]);
      }
    });

    it('never runs more trials at once than its capacity said', async () => {
      const slots = fx.transport.capacity();
      assert.ok(slots >= 1);
      // Counted from the call on: the runner submits a round before awaiting it.
      const submits: Promise<void>[] = [];
      for (let i = 0; i < slots; i++) {
        submits.push(fx.transport.submit(spec('e2', { x: i, epochs: 2, sleep_ms: 50 })));
        assert.equal(fx.transport.capacity(), slots - i - 1, `capacity right after submit #${i + 1}`);
      }
      await Promise.all(submits);
      assert.equal(fx.transport.capacity(), 0);
      assert.equal(fx.transport.inFlight(), slots);
      await rec.waitForResults(slots);
      assert.equal(fx.transport.capacity(), slots);
    });

    it('a stop decision ends the trial after that epoch as stopped', async () => {
      rec.decide = (e) => (e.epoch >= 2 ? 'stop' : 'continue');
      await fx.transport.submit(spec('e3', { x: 1, epochs: 10, sleep_ms: 5 }));
      await rec.waitForResults(1);
      const [r] = rec.results;
      assert.equal(r.state, 'stopped');
      assert.equal(r.epochs, 2);
      assert.equal(rec.epochs.length, 2);
    });

    it('a task that throws gives a failed result with its error and last metrics', async () => {
      await fx.transport.submit(spec('e4', { x: 1, epochs: 5, fail_at_epoch: 3 }));
      await rec.waitForResults(1);
      const [r] = rec.results;
      assert.equal(r.state, 'failed');
      assert.match(r.error ?? '', /synthetic failure at epoch 3/);
      assert.equal(r.epochs, 2);
      assert.ok(r.metrics.val_acc > 0);
    });

    it('an unknown task fails with a clear error (or, routed by task, waits for a worker offering it): workers run only registered tasks', async () => {
      await fx.transport.submit({ ...spec('e5', {}), task: '../../evil.js' });
      const waiting = fx.waitingForWorkers;
      if (waiting) {
        // Routed by task: no worker is handed it; the transport says which task waits for a worker.
        for (let i = 0; !waiting().some((w) => w.task === '../../evil.js' && w.trials === 1); i++) {
          if (i > 300) assert.fail(`the trial is not reported waiting: ${JSON.stringify(waiting())}`);
          await sleep(100);
        }
        assert.deepEqual(rec.results, []);
        return;
      }
      await rec.waitForResults(1);
      assert.equal(rec.results[0].state, 'failed');
      assert.match(rec.results[0].error ?? '', /unknown task '\.\.\/\.\.\/evil\.js'/);
    });

    it('cancel reaches running trials of that experiment only; they end without a result', async () => {
      await fx.transport.submit(spec('doomed', { x: 1, epochs: 100, sleep_ms: 50 }));
      await fx.transport.submit(spec('kept', { x: 2, epochs: 2, sleep_ms: 20 }));
      while (!rec.epochs.some((e) => e.experiment === 'doomed')) await sleep(10);
      await fx.transport.cancel('doomed');
      await rec.waitForResults(1);
      await sleep(200);
      assert.deepEqual(
        rec.results.map((r) => r.experiment),
        ['kept'],
      );
      assert.equal(fx.transport.inFlight(), 0);
    });

    it('runs an offered task module (named by name and sha256) with its epochs and stop decisions', async () => {
      const { module } = contractUserTasks();
      rec.decide = (e) => (e.trial_id.endsWith('stop') && e.epoch >= 2 ? 'stop' : 'continue');
      const base = { ...spec('um', { x: 3 }), task: module.name, task_sha256: module.sha256 };
      await fx.transport.submit(base);
      await fx.transport.submit({ ...base, trial_id: `${base.trial_id}-stop` });
      await rec.waitForResults(2);
      const done = rec.results.find((r) => r.trial_id === base.trial_id)!;
      assert.equal(done.state, 'completed', done.error);
      assert.equal(done.epochs, 3);
      assert.equal(done.metrics.loss, 1 + 1 / 3);
      const stopped = rec.results.find((r) => r.trial_id !== base.trial_id)!;
      assert.equal(stopped.state, 'stopped');
      assert.equal(stopped.epochs, 2);
    });

    it('runs an offered command task: JSON lines are epochs, a stop ends it', async () => {
      const { command } = contractUserTasks();
      rec.decide = (e) => (e.trial_id.endsWith('stop') && e.epoch >= 2 ? 'stop' : 'continue');
      const base = {
        ...spec('uc', { lr: 0.01, epochs: 3, sleep_ms: 5 }),
        task: command.name,
        task_sha256: command.sha256,
      };
      await fx.transport.submit(base);
      await fx.transport.submit({
        ...base,
        trial_id: `${base.trial_id}-stop`,
        params: { ...base.params, epochs: 50, sleep_ms: 100 },
      });
      await rec.waitForResults(2);
      const done = rec.results.find((r) => r.trial_id === base.trial_id)!;
      assert.equal(done.state, 'completed', done.error);
      assert.equal(done.epochs, 3);
      assert.deepEqual(
        rec.epochs.filter((e) => e.trial_id === base.trial_id).map((e) => e.epoch),
        [1, 2, 3],
      );
      assert.equal(done.metrics.validation_loss, 1 / 3);
      const stopped = rec.results.find((r) => r.trial_id !== base.trial_id)!;
      assert.equal(stopped.state, 'stopped');
      assert.equal(stopped.epochs, 2);
    });

    it('a decision handler that throws counts as continue (the last epoch too: the result still counts)', async () => {
      rec.decide = () => {
        throw new Error('scheduler bug');
      };
      await fx.transport.submit(spec('e6', { x: 1, epochs: 3 }));
      await rec.waitForResults(1);
      assert.equal(rec.results[0].state, 'completed');
      assert.equal(rec.results[0].epochs, 3);
    });
  });
}
