export * from './scheduler.js';
export { FifoScheduler } from './fifo.js';
export { AshaScheduler } from './asha.js';
export { DEFAULT_GRACE_EPOCHS, DEFAULT_MIN_TRIALS, MedianScheduler } from './median.js';
export { createScheduler } from './create.js';
export { finalEpochDecision, isLastEpoch } from './final-epoch.js';
export { scoreOf } from './objective.js';
export { ScoreTable } from './score-table.js';
export {
  bracketOf,
  bracketRungs,
  DEFAULT_ETA,
  hyperbandSettings,
  rungReached,
  trialRung,
  type HyperbandSettings,
} from '../search-space/hyperband.js';
