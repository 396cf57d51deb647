export * from './config.js';
export * from './metrics.js';
export * from './trainer.js';
export { TrainingAbortedError } from '../../shared/errors.js';
export { createOptimizer, MOMENTUM } from './optimizer.js';
export { evaluate, EVAL_BATCH, type EvaluateOptions } from './evaluate.js';
export { trainStep, zeroTotals } from './train-step.js';
