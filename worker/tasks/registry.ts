import { UsageError } from '../../shared/errors.js';
import { mnistTask } from './mnist-task.js';
import { syntheticTask } from './synthetic-task.js';
import type { Task } from './task.js';

/** Every task a worker can run, by name. A new task is one file plus one line here. */
export const TASKS: ReadonlyMap<string, Task> = new Map([mnistTask, syntheticTask].map((t) => [t.name, t]));

export function taskNames(): string[] {
  return [...TASKS.keys()];
}

export function getTask(name: string): Task {
  const task = TASKS.get(name);
  if (!task) throw new UsageError(`unknown task '${name}'; this worker runs: ${taskNames().join(', ')}`);
  return task;
}
