export { TrialPool, type TrialPoolOptions } from './trial-pool.js';
export { InlineExecutor, type InlineExecutorOptions } from './inline-executor.js';
