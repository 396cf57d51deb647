/**
 * What the parts of a NatsWorker share: its connection and names, its options and counters, the trial
 * messages it holds, the task routes it pulls from and their consumers' settings as last read.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { BusNames } from '../../shared/protocol/bus.js';
import type { TrialSpec } from '../../shared/protocol/index.js';
import type { BackendName } from '../../shared/protocol/backend-names.js';
import type { TrialExecutor } from '../../shared/protocol/executor.js';
import type { Logger, RateLimitedLog } from '../../shared/log/index.js';
import { type WorkersConsumerSettings, consumerSettings } from '../../shared/nats/connection.js';
import type { NatsWorkerOptions, NatsWorkerStats } from './nats-worker-options.js';

/** A trial message this worker holds (running, or being reported). */
export interface Held {
  msg: JsMsg;
  spec?: TrialSpec;
  controller: AbortController;
  /** Why the trial was aborted: a cancel acks it away, a drain hands it back. */
  reason?: 'cancel' | 'drain';
}

export interface WorkerState {
  readonly name: string;
  readonly names: BusNames;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly executor: TrialExecutor;
  readonly options: NatsWorkerOptions;
  readonly counters: NatsWorkerStats;
  /** The worker's logger (its lines carry the worker name). */
  readonly logger: Logger;
  /** Bus problems, rate-limited, through `logger`. */
  readonly log: RateLimitedLog;
  /** Trials held right now, by a local id. */
  readonly held: Map<number, Held>;
  /** Routes (taskRoute) of the tasks this worker offers: it pulls from their consumers only. */
  readonly routes: readonly string[];
  /**
   * Routes this worker does not pull from until the time given (epoch ms): it just refused a trial
   * there, so a capable worker's pull gets the trial when it comes back (trial-refusal.ts).
   */
  readonly resting: Map<string, number>;
  /** ack_wait / max_deliver of its task routes' consumers, as last read. */
  settings: WorkersConsumerSettings;
  /** Set once start() has created the streams / consumer. */
  jsm?: JetStreamManager;
  /** Set when draining starts: no more trials are taken. */
  stopping: boolean;
  /** The backends finished trials ran on, in order of first use (heartbeat `backends_in_use`). */
  readonly backendsInUse: BackendName[];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Re-reads a consumer's settings (the orchestrator owns them and may change them): the one a message
 * came from (`msg`, one of this worker's), else the first task route's.
 */
export async function refreshSettings(state: WorkerState, msg?: JsMsg): Promise<void> {
  if (!state.jsm || state.stopping) return;
  const mine = state.routes.map((r) => state.names.workersConsumer(r));
  const consumer = msg && mine.includes(msg.info.consumer) ? msg.info.consumer : mine[0];
  if (consumer === undefined) return;
  try {
    state.settings = consumerSettings(await state.jsm.consumers.info(state.names.trialsStream, consumer));
  } catch {
    // Next time.
  }
}

/** Counts and logs (rate-limited) a message that failed validation. */
export function reportInvalid(state: WorkerState, reason: string): void {
  state.counters.invalidMessages++;
  state.log.report(`rejected invalid message: ${reason}`);
}
