/**
 * A pool thread's side of the epoch exchange (trial-thread.ts): each epoch a task reports goes to the
 * main thread over the trial's port with the thread's usage, and the decision, when one is asked for,
 * comes back on the same port. Keeps the last epoch reported, for a trial that throws.
 */
import { threadId } from 'node:worker_threads';
import { type Decision, type TrialSpec, epochLimit } from '../../shared/protocol/index.js';
import type { EpochUsageReport } from '../tasks/task.js';
import type { MainMessage, ThreadMessage, ThreadTask } from './messages.js';
import type { EpochUsage } from './observer.js';
import { readTfjsMemory } from '../backends/tfjs-memory.js';
import { opsDevice } from '../backends/tf-device.js';

export class EpochReporter {
  /** Number of the last epoch reported. */
  epochs = 0;
  /** Metrics of the last epoch reported. */
  last: Record<string, number> = {};
  private readonly lastEpoch: number;
  /** Decisions the thread waits for, by epoch. */
  private readonly waiting = new Map<number, (d: Decision) => void>();
  private epochStart = performance.now();

  constructor(
    private readonly spec: TrialSpec,
    private readonly port: ThreadTask['port'],
  ) {
    port.on('message', (msg: MainMessage) => {
      if (msg.type === 'decision') {
        this.waiting.get(msg.epoch)?.(msg.decision);
        this.waiting.delete(msg.epoch);
      }
    });
    this.lastEpoch = epochLimit(spec.params);
  }

  /** The task's reportEpoch: resolves with the decision (continue when none is asked for). */
  report(epoch: number, metrics: Record<string, number>, report?: EpochUsageReport): Promise<Decision> {
    this.epochs = epoch;
    this.last = metrics;
    const usage = this.usage(metrics, report);
    // Nothing to decide after the last epoch, nor ever when the orchestrator never stops trials.
    const ask = this.spec.decisions !== false && epoch < this.lastEpoch;
    const msg: ThreadMessage = { type: 'epoch', epoch, metrics, usage, ask };
    if (!ask) {
      this.port.postMessage(msg);
      return Promise.resolve('continue');
    }
    return new Promise<Decision>((resolve) => {
      this.waiting.set(epoch, resolve);
      this.port.postMessage(msg);
    });
  }

  /** What the epoch used of this thread (for the worker's metrics). */
  private usage(metrics: Record<string, number>, report?: EpochUsageReport): EpochUsage {
    const now = performance.now();
    const tfjs = readTfjsMemory();
    const device = opsDevice();
    const usage: EpochUsage = {
      thread: threadId,
      // The task's own epoch timing when it reports one, else the time since the last report.
      seconds: Number.isFinite(metrics.epoch_seconds)
        ? metrics.epoch_seconds
        : (now - this.epochStart) / 1000,
      ...(report?.images === undefined ? {} : { images: report.images }),
      ...(report?.backend === undefined ? {} : { backend: report.backend }),
      ...(tfjs ? { tfjs } : {}),
      ...(device ? { device } : {}),
    };
    this.epochStart = now;
    return usage;
  }
}
