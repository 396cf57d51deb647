/**
 * For bench:search. `inlineExecutor` runs a registered task in this thread (the worker's InlineExecutor;
 * no worker threads: the synthetic task at sleep_ms 0 is pure arithmetic, so thread hops would only add noise). `BudgetExecutor`
 * wraps any executor and keeps the search's budget in epoch-equivalents (every epoch a trial reports, as
 * it is reported) and its best-so-far curve (a point per finished trial), and fires `onBudget` once the
 * budget passes `cap` (so a trial ending exactly at the cap still reports its result).
 */
import type { ResultEvent, TrialSpec } from '../../shared/protocol/index.js';
import type { ExecutionHooks, TrialExecutor } from '../../shared/protocol/executor.js';
import { InlineExecutor } from '../../worker/pool/index.js';
import { getTask } from '../../worker/tasks/registry.js';
import type { Metric } from '../../orchestrator/search-space/types.js';

/** The worker's in-thread executor on the registered tasks, on the cpu backend. */
export function inlineExecutor(slots: number): TrialExecutor {
  return new InlineExecutor(getTask, { slots, backend: 'cpu', name: 'inline' });
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
