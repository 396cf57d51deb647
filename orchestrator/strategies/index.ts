export type { Strategy, StrategyState } from './strategy.js';
export { createStrategy } from './create.js';
export { GridStrategy } from './grid.js';
export { MAX_REDRAWS, RandomStrategy, STRATEGY_SALT } from './random.js';
export { configKey, projectParams } from './key.js';
export { sampleConfig, sampleParam, unitFloat } from './sample.js';
export type { FinishedProposal } from './strategy.js';
export { defaultGamma, TPE_SALT, TpeStrategy, type TpeOptions } from './tpe.js';
export { CategoricalParzen, NumericParzen, type NumericDomain } from './parzen.js';
