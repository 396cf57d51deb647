/**
 * The orchestrator↔worker boundary: a handful of calls. The in-process transport drives a local
 * TrialExecutor; the NATS transport carries the same calls over JetStream. Both pass the contract
 * suite in test/contracts/transport.contract.ts.
 */
import type { Decision, EpochEvent, ResultEvent, TrialSpec } from '../../shared/protocol/index.js';

/** One attempt of a trial, as a transport names it. */
export interface TrialAttempt {
  experiment: string;
  trial_id: string;
  attempt: number;
}

export interface TransportHandlers {
  /** One epoch of a running trial; the returned decision goes back to the trial. */
  onEpoch(event: EpochEvent): Promise<Decision>;
  /** A trial's final outcome. May arrive more than once for one trial over a network: store idempotently. */
  onResult(event: ResultEvent): Promise<void>;
  /** A worker began running a queued trial's attempt (transports that queue: `queues`). */
  onStarted?(trial: TrialAttempt & { worker: string }): Promise<void>;
  /**
   * The attempt showed no sign of life for the trial timeout and nobody is left to report it (its message
   * left the queue without a result): submit the trial again as a new attempt.
   */
  onLost?(trial: TrialAttempt, reason: string): Promise<void>;
  /** capacity() may have grown without a trial ending (e.g. a worker joined the fleet): look again. */
  onCapacity?(): void;
}

export interface Transport {
  readonly name: string;
  /**
   * True if submit() only queues the trial (a bus): it is `queued` until onStarted. False or absent: a
   * submitted trial runs at once (local threads).
   */
  readonly queues?: boolean;
  /**
   * Trials a previous run of the experiment dispatched and that may still be queued or running (resume
   * after a crash): taken back as their current deliveries (same attempt, same token) instead of being
   * dispatched again, so their results count. Called before start(); returns false when the transport
   * cannot (then the caller dispatches them again). Absent: trials die with the process (local threads).
   */
  adopt?(specs: TrialSpec[]): boolean;
  /** Begins delivering events to `handlers`. */
  start(handlers: TransportHandlers): Promise<void>;
  /** Trials that can start right now without waiting (free slots). */
  capacity(): number;
  /**
   * Hands a trial to a worker. Resolves once it is accepted (not when it ends); counts against
   * capacity() from the call on (synchronously), so a caller may submit several before awaiting them.
   */
  submit(spec: TrialSpec): Promise<void>;
  /** Stops running trials of the experiment (or one trial): they end without a result. */
  cancel(experiment: string, trialId?: string): Promise<void>;
  /** Trials submitted and not yet ended. */
  inFlight(): number;
  close(): Promise<void>;
}
