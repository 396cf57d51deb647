/**
 * For bench:search. `InlineExecutor` runs a registered task in this thread (no worker threads: the
 * synthetic task at sleep_ms 0 is pure arithmetic, so thread hops would only add noise). `BudgetExecutor`
 * wraps any executor and keeps the search's budget in epoch-equivalents (every epoch a trial reports, as
 * it is reported) and its best-so-far curve (a point per finished trial), and fires `onBudget` once the
 * budget passes `cap` (so a trial ending exactly at the cap still reports its result).
 */
import {
  deliveryFields,
  type ResultEvent,
  type TrialSpec,
} from '../../shared/protocol/index.js';
import {
  type ExecutionHooks,
  type TrialExecutor,
  TrialInterruptedError,
} from '../../shared/protocol/executor.js';
import { getTask } from '../../worker/tasks/registry.js';
import type { Metric } from '../../orchestrator/search-space/types.js';

export class InlineExecutor implements TrialExecutor {
  readonly name = 'inline';
  constructor(readonly slots: number) {}

  async run(spec: TrialSpec, hooks: ExecutionHooks): Promise<ResultEvent> {
    const started = Date.now();
    let epochs = 0;
    let last: Record<string, number> = {};
    const base = deliveryFields(spec);
    try {
      const outcome = await getTask(spec.task).run(spec, {
        signal: hooks.signal,
        backend: 'cpu',
        reportEpoch: (epoch, metrics) => {
          epochs = epoch;
          last = metrics;
          return hooks.onEpoch({ ...base, epoch, metrics, worker: this.name });
        },
      });
      return {
        ...base,
        state: outcome.stopped ? 'stopped' : 'completed',
        metrics: outcome.metrics,
        epochs: outcome.epochs,
        worker: this.name,
        started_at: started,
        ended_at: Date.now(),
      };
    } catch (err) {
      if (hooks.signal.aborted) throw new TrialInterruptedError(spec.trial_id);
      return {
        ...base,
        state: 'failed',
        metrics: last,
        epochs,
        error: String(err),
        worker: this.name,
        started_at: started,
        ended_at: Date.now(),
      };
    }
  }

  async close(): Promise<void> {}
}

export interface CurvePoint {
  /** Epoch-equivalents spent when the trial finished. */
  budget: number;
  /** Best objective of the trials finished so far. */
  best: number;
}

export class BudgetExecutor implements TrialExecutor {
  readonly name: string;
  readonly slots: number;
  budget = 0;
  trials = 0;
  readonly curve: CurvePoint[] = [];
  private best: number;
  private fired = false;

  constructor(
    private readonly inner: TrialExecutor,
    private readonly metric: Metric,
    private readonly cap: number,
    private readonly onBudget: () => void,
  ) {
    this.name = inner.name;
    this.slots = inner.slots;
    this.best = metric.goal === 'maximize' ? -Infinity : Infinity;
  }

  async run(spec: TrialSpec, hooks: ExecutionHooks): Promise<ResultEvent> {
    const result = await this.inner.run(spec, {
      signal: hooks.signal,
      onEpoch: (e) => {
        this.budget++;
        if (this.budget > this.cap && !this.fired) {
          this.fired = true;
          this.onBudget();
        }
        return hooks.onEpoch(e);
      },
    });
    const v = result.metrics[this.metric.name];
    if (result.state !== 'failed' && typeof v === 'number' && Number.isFinite(v)) {
      this.best = this.metric.goal === 'maximize' ? Math.max(this.best, v) : Math.min(this.best, v);
    }
    this.trials++;
    if (Number.isFinite(this.best)) this.curve.push({ budget: this.budget, best: this.best });
    return result;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
