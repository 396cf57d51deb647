export { TrialPool, type TrialPoolOptions } from './trial-pool.js';
export { InlineExecutor, type InlineExecutorOptions, type InlineTask } from './inline-executor.js';
