import type { BackendChoice } from '../backends/backend.js';
import type { Decision, TrialSpec } from '../../shared/protocol/index.js';
import type { MessagePort } from 'node:worker_threads';
import type { EpochUsage } from './observer.js';
import type { TfjsMemory } from '../backends/tfjs-memory.js';
import type { TaskOutcome } from '../tasks/task.js';

/** What the pool hands a thread for one trial. */
export interface ThreadTask {
  spec: TrialSpec;
  /** Epoch reports go out and decisions come back on this port. */
  port: MessagePort;
  backend: BackendChoice;
  dataDir?: string;
  /** A task module this worker offers (never a path from a message): imported once per thread. */
  module?: { path: string; sha256: string };
  /** The pool's worker name, for the thread's log lines. */
  worker?: string;
  /** Root under which this worker saves models (the path is derived from experiment and trial ids). */
  modelsDir?: string;
}

export type ThreadMessage = {
  type: 'epoch';
  epoch: number;
  metrics: Record<string, number>;
  /** For the worker's metrics only. */
  usage: EpochUsage;
  /**
   * The thread waits for a decision. false: it goes on at once (the trial's last epoch, or a spec with
   * `decisions: false`); the pool reads any such message still queued before it takes the result.
   */
  ask: boolean;
};
export type MainMessage = { type: 'decision'; epoch: number; decision: Decision };

/** A task's outcome (model: saved under the worker's models root), as the thread sends it back. */
export interface ThreadResult extends TaskOutcome {
  ok: boolean;
  error?: string;
  started_at: number;
  ended_at: number;
  /** The thread's threadId, and its tfjs memory after the trial (when tfjs is loaded there). */
  thread: number;
  tfjs?: TfjsMemory;
}
