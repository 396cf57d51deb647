export type { Strategy, StrategyState } from './strategy.js';
export { createStrategy } from './create.js';
export { GridStrategy } from './grid.js';
export { MAX_REDRAWS, RandomStrategy, STRATEGY_SALT } from './random.js';
export { configKey, projectParams } from './key.js';
export { sampleConfig, sampleParam, unitFloat } from './sample.js';
