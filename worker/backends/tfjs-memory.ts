/**
 * Per-thread usage a pool thread reports with its messages (the worker's /metrics live in the main
 * thread). A task that loads tfjs registers a memory probe once; threads that never load tfjs (the
 * synthetic task) report no tfjs memory at all.
 */

export interface TfjsMemory {
  /** tf.memory().numBytes */
  bytes: number;
  /** tf.memory().numTensors */
  tensors: number;
}

let probe: (() => TfjsMemory) | undefined;

/** Called by a task once tfjs is loaded in this thread. */
export function setTfjsMemoryProbe(read: () => TfjsMemory): void {
  probe = read;
}

/** This thread's tfjs memory now, or undefined when tfjs is not loaded here (or cannot say). */
export function readTfjsMemory(): TfjsMemory | undefined {
  if (!probe) return undefined;
  try {
    return probe();
  } catch {
    return undefined;
  }
}
