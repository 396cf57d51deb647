/** Options and outcome of a SearchRunner run (search-runner.ts). */
import { HpoError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log/index.js';
import type { ResultEvent } from '../../shared/protocol/index.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import type { Strategy } from '../strategies/strategy.js';
import type { Store } from '../store/types.js';
import type { Transport } from '../transport/transport.js';
import type { SearchObserver } from './observer.js';
import type { SearchProgress } from './progress.js';

export interface SearchRunnerOptions {
  store: Store;
  transport: Transport;
  strategy: Strategy;
  scheduler: Scheduler;
  /** Name of an experiment that exists in the store. */
  experiment: string;
  /** Data set identity sent with multi-digit-mnist trials, so workers can check theirs. */
  data?: { seed: number; sha256?: string };
  /** Aborting (Ctrl-C) cancels running trials and leaves the experiment interrupted, resumable. */
  signal?: AbortSignal;
  onProgress?: (progress: SearchProgress) => void;
  /** Known total of trials, for progress (null: unknown). */
  total?: number | null;
  /** Told about dispatches, epochs, results and the run's end (e.g. the orchestrator's metrics). */
  observer?: SearchObserver;
  /**
   * Time budget (Optuna's `timeout`, Ray's `time_budget_s`): no new trial starts `seconds` after the run
   * began; running ones finish, or with `hard` are cancelled at the budget (put back to pending, so the
   * experiment is left interrupted and resumable).
   */
  timeBudget?: { seconds: number; hard?: boolean };
  /** Clock (ms since the epoch); default Date.now. */
  now?: () => number;
  /** Model saving: whether trials save their model, and what happens once a result is stored. */
  models?: {
    saves(): boolean;
    recorded(result: ResultEvent): void | Promise<void>;
  };
  /**
   * What a failed store write (disk full, I/O error) while recording an epoch or result does:
   * - `interrupt` (default; the local pool, whose results cannot be replayed): the run stops, running
   *   trials are cancelled, the experiment is left interrupted and run() rejects with a SearchStoreError;
   * - `retry` (NATS: the event stays on the bus unacked): the handler throws a RetryLaterError and the
   *   transport delivers the event again later, however long it takes, so recording resumes when space
   *   returns. A write the store refuses for good (a constraint, a value of the wrong type: not a store
   *   that cannot write for now, see storeCannotWriteNow) throws a RefusedEventError instead: the event
   *   is dropped once, its trial stays in flight.
   */
  onStoreFailure?: 'interrupt' | 'retry';
  /** Where the runner logs (default: the process's logger); its lines carry the experiment. */
  logger?: Logger;
}

/** The store could not record what the search produced; the experiment was left interrupted (if it could be). */
export class SearchStoreError extends HpoError {
  constructor(
    message: string,
    readonly experiment: string,
    /** Whether the experiment could be marked interrupted (false: the store refused that write too). */
    readonly markedInterrupted: boolean,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

export interface SearchOutcome {
  experiment: string;
  status: 'completed' | 'interrupted';
  /**
   * Why it ended: every trial proposed and done (`exhausted`), metric.target reached (`target`), the time
   * budget spent (`time_budget`; with a hard budget running trials were cancelled), or Ctrl-C.
   */
  reason: 'exhausted' | 'target' | 'time_budget' | 'interrupted';
  progress: SearchProgress;
}
