/** The names of the built-in tasks, without loading them (registry.ts loads them; a test checks both agree). */
import { MNIST_TASK, SYNTHETIC_TASK } from '../../shared/task-names.js';

export const BUILTIN_TASK_NAMES: readonly string[] = [MNIST_TASK, SYNTHETIC_TASK];
