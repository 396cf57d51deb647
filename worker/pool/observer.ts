/**
 * What a TrialPool tells an observer (the worker's metrics) about its trials. Plain callbacks, no
 * metrics library here: the pool threads report through their messages, the pool forwards.
 */
import type { FinalState, TrialSpec } from '../../shared/protocol/index.js';
import type { TfjsMemory } from '../backends/tfjs-memory.js';
import type { OpsDevice } from '../backends/tf-device.js';

/** One epoch's work as a pool thread saw it. */
export interface EpochUsage {
  /** The pool thread's threadId. */
  thread: number;
  /** Wall time of the epoch. */
  seconds: number;
  /** Training images processed (absent when the task does not train). */
  images?: number;
  /** tfjs backend of the epoch (absent when the task does not use one). */
  backend?: string;
  /** The thread's tfjs memory after the epoch (absent when tfjs is not loaded in the thread). */
  tfjs?: TfjsMemory;
  /** Where the thread's backend runs ops (`gpu`: TensorFlow placed them on a GPU); absent when unknown. */
  device?: OpsDevice;
}

/** How a trial left the pool: a result state, or `cancelled` (aborted: no result). */
export type PoolTrialEnd = FinalState | 'cancelled';

export interface PoolObserver {
  onTrialStart?(spec: TrialSpec): void;
  onEpoch?(spec: TrialSpec, usage: EpochUsage): void;
  /**
   * `thread`: the thread that ran it, when known; `threadGone`: the thread was killed (abort, crash), so
   * its memory is gone; `tfjs`: the thread's tfjs memory after the trial (when it reported one).
   */
  onTrialEnd?(
    spec: TrialSpec,
    end: PoolTrialEnd,
    thread: { id?: number; gone: boolean; tfjs?: TfjsMemory },
  ): void;
}
