/** Piscina thread entry: runs one trial of a registered task, reporting epochs over the task's port. */
import { threadId } from 'node:worker_threads';
import { getTask } from '../tasks/registry.js';
import type { Task } from '../tasks/task.js';
import { fileSha256, moduleUrl, taskProblem } from '../tasks/task-module.js';
import type { ThreadResult, ThreadTask } from './messages.js';
import { EpochReporter } from './epoch-reporter.js';
import { readTfjsMemory } from '../backends/tfjs-memory.js';
import { allowFamilyBackends } from '../backends/auto-preference.js';
import { childLogger, type Logger } from '../../shared/log/index.js';
import { errorText } from '../../shared/errors.js';

// One trial at a time in this thread: under auto, a trial's model family may pick its backend.
allowFamilyBackends();

/** Task modules imported by this thread, by path and sha256. */
const modules = new Map<string, Promise<Task>>();

/** The trial's task: a built-in one by name, or the offered module (checked against its sha256). */
async function taskFor(task: ThreadTask): Promise<Task> {
  if (!task.module) return getTask(task.spec.task);
  const { path, sha256 } = task.module;
  const key = `${path}\n${sha256}`;
  let loaded = modules.get(key);
  if (!loaded) {
    loaded = (async () => {
      if (fileSha256(path) !== sha256) throw new Error(`task module ${path} changed since it was offered`);
      const mod: unknown = await import(moduleUrl(path, sha256));
      const problem = taskProblem(mod);
      if (problem) throw new Error(`task module ${path}: ${problem}`);
      return (mod as { default: Task }).default;
    })();
    modules.set(key, loaded);
    loaded.catch(() => modules.delete(key));
  }
  return loaded;
}

export default async function runTrial(task: ThreadTask): Promise<ThreadResult> {
  const { spec, port } = task;
  const started = Date.now();
  const log = trialLogger(task);
  log.debug({ task: spec.task, backend: task.backend }, 'trial started');
  const reporter = new EpochReporter(spec, port);
  try {
    // The thread is killed on abort, so this signal never fires here; the task still gets one.
    const outcome = await (
      await taskFor(task)
    ).run(spec, {
      signal: new AbortController().signal,
      backend: task.backend,
      dataDir: task.dataDir,
      ...(task.modelsDir === undefined ? {} : { modelsDir: task.modelsDir }),
      reportEpoch: (epoch, metrics, report) => reporter.report(epoch, metrics, report),
    });
    return { ok: true, ...outcome, started_at: started, ended_at: Date.now(), ...ended() };
  } catch (err) {
    const error = errorText(err);
    // The error goes back in the result (and is logged where results are handled): debug here.
    log.debug({ err, epochs: reporter.epochs }, `trial threw: ${error}`);
    return {
      ok: false,
      metrics: reporter.last,
      epochs: reporter.epochs,
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

/** Synchronous writes to fd 2: a line is out before the thread is reused or killed. */
function trialLogger(task: ThreadTask): Logger {
  const { spec } = task;
  return childLogger({
    component: 'trial-thread',
    thread: threadId,
    ...(task.worker === undefined ? {} : { worker: task.worker }),
    experiment: spec.experiment,
    trial: spec.trial_id,
    attempt: spec.attempt,
  });
}

/** What the result says of the thread: its id and its tfjs memory. */
function ended(): Pick<ThreadResult, 'thread' | 'tfjs'> {
  const tfjs = readTfjsMemory();
  return { thread: threadId, ...(tfjs ? { tfjs } : {}) };
}
