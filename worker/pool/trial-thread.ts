/** Piscina thread entry: runs one trial of a registered task, reporting epochs over the task's port. */
import type { Decision } from '../../shared/protocol/index.js';
import { getTask } from '../tasks/registry.js';
import type { MainMessage, ThreadResult, ThreadTask } from './messages.js';

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
  try {
    // The thread is killed on abort, so this signal never fires here; the task still gets one.
    const outcome = await getTask(spec.task).run(spec, {
      signal: new AbortController().signal,
      backend: task.backend,
      dataDir: task.dataDir,
      reportEpoch: (epoch, metrics) => {
        epochs = epoch;
        last = metrics;
        return new Promise<Decision>((resolve) => {
          waiting.set(epoch, resolve);
          port.postMessage({ type: 'epoch', epoch, metrics });
        });
      },
    });
    return { ok: true, ...outcome, started_at: started, ended_at: Date.now() };
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
    };
  } finally {
    port.close();
  }
}
