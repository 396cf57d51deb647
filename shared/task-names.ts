/**
 * The names of the built-in tasks. The worker registers the tasks under them; the orchestrator knows
 * them without loading any task code (multi-digit-mnist's data set, seed table and report notes).
 */
export const MNIST_TASK = 'multi-digit-mnist';
export const SYNTHETIC_TASK = 'synthetic';
