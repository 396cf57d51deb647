/** The names of the built-in tasks, without loading them (registry.ts loads them; a test checks both agree). */
import { MNIST_TASK } from './mnist-params.js';
import { SYNTHETIC_TASK } from './synthetic-params.js';

export const BUILTIN_TASK_NAMES: readonly string[] = [MNIST_TASK, SYNTHETIC_TASK];
