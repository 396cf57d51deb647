/**
 * What a SearchRunner tells an observer (the orchestrator's metrics) as a search runs. Plain callbacks:
 * the runner knows nothing about metrics libraries. An observer that throws never disturbs the search.
 */
import type { EpochEvent, ResultEvent, TrialSpec } from '../../shared/protocol/index.js';
import type { TrialRecord } from '../store/types.js';
import { type Logger, rootLogger } from '../../shared/log/index.js';

export interface SearchObserver {
  /**
   * The run begins (after interrupted trials were put back to pending). An observer that reads the store
   * here returns a promise: the run waits for it before it dispatches anything.
   */
  onStart?(experiment: string): void | Promise<void>;
  /**
   * A trial is handed to the transport (`transport` = its name); `queued`: it waits in a bus queue until a
   * worker starts it (onStarted), else it runs at once.
   */
  onDispatch?(spec: TrialSpec, transport: string, queued?: boolean): void;
  /** A worker started a queued trial. */
  onStarted?(experiment: string, trialId: string): void;
  /** An epoch of a running trial was recorded. */
  onEpoch?(event: EpochEvent): void;
  /**
   * A result arrived. `record` is the trial as stored after it was applied; undefined when the result was
   * ignored because the trial was already final (a duplicate: the first result wins).
   */
  onResult?(event: ResultEvent, record: TrialRecord | undefined): void;
  /** The run ended: all trials done, or interrupted (running trials were cancelled). */
  onEnd?(experiment: string, status: 'completed' | 'interrupted'): void;
}

/** Calls an observer hook, swallowing (and logging as a warning) what it throws. */
export function notifyObserver(
  observer: SearchObserver | undefined,
  call: (o: SearchObserver) => void,
  logger: Logger = rootLogger(),
): void {
  if (!observer) return;
  try {
    call(observer);
  } catch (err) {
    logger.warn({ err }, `search observer failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** notifyObserver for a hook that may return a promise: awaited, and what it rejects with is logged. */
export async function notifyObserverAsync(
  observer: SearchObserver | undefined,
  call: (o: SearchObserver) => void | Promise<void>,
  logger: Logger = rootLogger(),
): Promise<void> {
  if (!observer) return;
  try {
    await call(observer);
  } catch (err) {
    logger.warn({ err }, `search observer failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
