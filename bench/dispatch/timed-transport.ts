/**
 * A Transport decorator that times every trial: when submit() was called, when the worker's thread
 * started it (the result's `started_at`, same machine's clock) and when its result reached the
 * orchestrator's handler. Passes everything else through unchanged, so it can sit between a
 * SearchRunner and a NatsTransport without changing what either does.
 */
import type { ResultEvent, TrialSpec } from '../../shared/protocol/index.js';
import type { Transport, TransportHandlers } from '../../orchestrator/transport/transport.js';

export interface TrialTiming {
  /** submit() called → the worker thread started the trial (ms, integer clock). */
  dispatchMs: number;
  /** submit() called → the result reached the orchestrator's onResult. */
  roundTripMs: number;
  /** The trial's own run time in the thread (ended_at − started_at). */
  runMs: number;
  state: ResultEvent['state'];
}

const key = (experiment: string, trialId: string, attempt: number) => `${experiment}\0${trialId}\0${attempt}`;

export class TimedTransport implements Transport {
  readonly name: string;
  readonly timings: TrialTiming[] = [];
  private readonly submittedAt = new Map<string, number>();

  constructor(private readonly inner: Transport) {
    this.name = inner.name;
  }

  start(handlers: TransportHandlers): Promise<void> {
    return this.inner.start({
      onEpoch: (e) => handlers.onEpoch(e),
      onResult: (r) => {
        this.note(r);
        return handlers.onResult(r);
      },
    });
  }

  capacity(): number {
    return this.inner.capacity();
  }

  inFlight(): number {
    return this.inner.inFlight();
  }

  submit(spec: TrialSpec): Promise<void> {
    this.submittedAt.set(key(spec.experiment, spec.trial_id, spec.attempt), Date.now());
    return this.inner.submit(spec);
  }

  cancel(experiment: string, trialId?: string): Promise<void> {
    return this.inner.cancel(experiment, trialId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** First result of each submitted attempt only (a redelivered duplicate is not counted twice). */
  private note(r: ResultEvent): void {
    const now = Date.now();
    const k = key(r.experiment, r.trial_id, r.attempt);
    const at = this.submittedAt.get(k);
    if (at === undefined) return;
    this.submittedAt.delete(k);
    this.timings.push({
      dispatchMs: r.started_at - at,
      roundTripMs: now - at,
      runMs: r.ended_at - r.started_at,
      state: r.state,
    });
  }
}
