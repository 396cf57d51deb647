/** Options and counters of a NatsWorker (see nats-worker.ts). */
import type { Logger } from '../../shared/log/index.js';
import type { TrialSpec } from '../../shared/protocol/index.js';
import type { BackendChoice } from '../../shared/protocol/backend-names.js';
import type { StreamSettings } from '../../shared/nats/connection.js';

/** A task a worker offers: its name, and for a task module or command program its content sha256. */
export interface OfferedTask {
  task: string;
  sha256?: string;
}

export interface NatsWorkerOptions {
  /** Subject prefix (default `hpo`); must match the orchestrator's. */
  prefix?: string;
  /** Name in heartbeats and logs (default: the executor's name). */
  name?: string;
  /** Backend reported in heartbeats (the --backend flag), and the one trials run on unless `auto`. */
  backend?: BackendChoice;
  /** Tasks offered beyond the built-in ones (`name@sha`), reported in heartbeats. */
  tasks?: () => string[];
  /**
   * Every task this worker runs, built-in ones included (by name, without sha256): it pulls trials only
   * from these tasks' consumers (one per task route, shared/protocol/bus.ts taskRoute), so it is never
   * handed a trial of another task. Default: the built-in tasks.
   */
  offered?: readonly OfferedTask[];
  /**
   * ack_wait / max_deliver of the task routes' consumers, used only if this worker creates one (the
   * orchestrator owns them: a worker always reads the consumer's actual settings).
   */
  ackWaitMs?: number;
  maxDeliver?: number;
  /** How long to wait for the orchestrator's per-epoch decision before continuing (default 2000). */
  decisionTimeoutMs?: number;
  /**
   * A trial's `started` event is published once it has run this long (default 250): a trial that ends
   * sooner goes from queued to its result without one (one stored message less per short trial).
   */
  startedAfterMs?: number;
  /** Heartbeat period (default 5000). */
  heartbeatMs?: number;
  /** Lifetime of one pull request (default 10000, at least 1000). */
  fetchExpiresMs?: number;
  /**
   * A worker pulling from several task routes keeps its free slots on the routes that last delivered
   * trials; every this often (default 10000) it also asks a quiet route for one trial (a 1 s pull), so
   * a second search of another task it offers is served too.
   */
  probeEveryMs?: number;
  /**
   * nak delay after a trial's first refusal, so another worker takes it (default 2000); it doubles with
   * each further refusal (at most 30 s).
   */
  refuseDelayMs?: number;
  /**
   * Refusals (by any worker) after which each further refusal is reported to the orchestrator at once
   * (default 10): it queues the trial again while a live worker offering the task has not refused it,
   * and fails it otherwise (nobody in the fleet will run it). Refusals do not use up `max_deliver`: a
   * refused message about to reach its last delivery is reported too, and the orchestrator queues it
   * again carrying the count (header `Hpo-Refusals`).
   */
  maxRefusals?: number;
  /** nak delay after failing to start a trial for a worker-side reason (default 1000). */
  retryDelayMs?: number;
  /**
   * nak delay for a trial message this worker cannot read (another protocol version, garbage): it is
   * left for a compatible worker, never acked (default 5000). After max_deliver deliveries the
   * orchestrator that queued it fails it.
   */
  unreadableDelayMs?: number;
  /**
   * Checked before a trial runs: a reason string refuses the trial (e.g. its data set's sha256 differs
   * from this worker's), null accepts it. A refused trial goes back to the queue for another worker; on
   * its last delivery it ends failed with the reason.
   */
  accept?: (spec: TrialSpec) => string | null | Promise<string | null>;
  /**
   * Where the worker logs (default: the process's logger); every line carries the worker's name. Bus
   * problems are warnings, each distinct one logged once a minute at most.
   */
  logger?: Logger;
  /**
   * Largest saved model (all files together) this worker sends to the orchestrator through the object
   * store (default DEFAULT_MAX_MODEL_BYTES, 256 MiB); a larger one stays on the worker and the result
   * says so (`model.not_sent`).
   */
  maxModelBytes?: number;
  /** Streams' settings, used only if this worker creates them. */
  streams?: StreamSettings;
  /** close()/drain() close the executor (default true). */
  closeExecutor?: boolean;
  /** close()/drain() close the NATS connection (default true). */
  closeConnection?: boolean;
}

export interface NatsWorkerStats {
  /** Messages that failed validation (trials, cancels, decision replies). */
  invalidMessages: number;
  /** Trials that ended with a published result. */
  trialsDone: number;
  /** Deliveries refused through `accept`. */
  refused: number;
  /** Trial messages received that had been delivered before (to this or another worker). */
  redelivered: number;
  /** Trials aborted by a cancel from the orchestrator. */
  cancelled: number;
  /** Trials handed back to the queue (nak) by a drain deadline. */
  requeued: number;
  /** Bus operations that failed: pulling trials, publishing an epoch event, publishing a result. */
  busErrors: number;
}
