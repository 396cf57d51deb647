/**
 * The task catalogue of the tasks a worker of this installation runs (worker/tasks/registry.ts): each
 * task declares its own parameter rules. Importing this file loads the task code and so
 * @tensorflow/tfjs; the barrel (index.ts) does not re-export it for that reason.
 */
import { TASKS } from '../worker/tasks/registry.js';
import {
  catalogFromTasks,
  type TaskCatalog,
  type TaskParams,
} from '../orchestrator/search-space/task-catalog.js';

export function builtinTaskCatalog(): TaskCatalog {
  const tasks: Record<string, TaskParams> = {};
  for (const task of TASKS.values()) tasks[task.name] = task.params;
  return catalogFromTasks(tasks);
}
