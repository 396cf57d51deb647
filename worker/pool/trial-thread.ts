/** Piscina thread entry: runs one trial of a registered task, reporting epochs over the task's port. */
import { threadId } from 'node:worker_threads';
import type { Decision } from '../../shared/protocol/index.js';
import { getTask } from '../tasks/registry.js';
import type { MainMessage, ThreadMessage, ThreadResult, ThreadTask } from './messages.js';
import type { EpochUsage } from './observer.js';
import { readTfjsMemory } from '../backends/tfjs-memory.js';

export default async function runTrial(task: ThreadTask): Promise<ThreadResult> {
  const { spec, port } = task;
  const started = Date.now();
  const waiting = new Map<number, (d: Decision) => void>();
  port.on('message', (msg: MainMessage) => {
    if (msg.type === 'decision') {
      waiting.get(msg.epoch)?.(msg.decision);
      waiting.delete(msg.epoch);
    }
  });
  let epochs = 0;
  let last: Record<string, number> = {};
  let epochStart = performance.now();
  const ended = (): Pick<ThreadResult, 'thread' | 'tfjs'> => {
    const tfjs = readTfjsMemory();
    return { thread: threadId, ...(tfjs ? { tfjs } : {}) };
  };
  try {
    // The thread is killed on abort, so this signal never fires here; the task still gets one.
    const outcome = await getTask(spec.task).run(spec, {
      signal: new AbortController().signal,
      backend: task.backend,
      dataDir: task.dataDir,
      ...(task.modelsDir === undefined ? {} : { modelsDir: task.modelsDir }),
      reportEpoch: (epoch, metrics, report) => {
        epochs = epoch;
        last = metrics;
        const now = performance.now();
        const tfjs = readTfjsMemory();
        const usage: EpochUsage = {
          thread: threadId,
          // The task's own epoch timing when it reports one, else the time since the last report.
          seconds: Number.isFinite(metrics.epoch_seconds) ? metrics.epoch_seconds : (now - epochStart) / 1000,
          ...(report?.images === undefined ? {} : { images: report.images }),
          ...(report?.backend === undefined ? {} : { backend: report.backend }),
          ...(tfjs ? { tfjs } : {}),
        };
        epochStart = now;
        return new Promise<Decision>((resolve) => {
          waiting.set(epoch, resolve);
          const msg: ThreadMessage = { type: 'epoch', epoch, metrics, usage };
          port.postMessage(msg);
        });
      },
    });
    return { ok: true, ...outcome, started_at: started, ended_at: Date.now(), ...ended() };
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return {
      ok: false,
      metrics: last,
      epochs,
      stopped: false,
      error,
      started_at: started,
      ended_at: Date.now(),
      ...ended(),
    };
  } finally {
    port.close();
  }
}
