import type { SearchSpace } from '../search-space/types.js';
import { AshaScheduler } from './asha.js';
import { FifoScheduler } from './fifo.js';
import { MedianScheduler } from './median.js';
import type { Scheduler } from './scheduler.js';

/** The scheduler for the space's early_terminate: ASHA (hyperband), median, or none (FIFO). */
export function createScheduler(space: Pick<SearchSpace, 'metric' | 'early_terminate'>): Scheduler {
  const et = space.early_terminate;
  if (!et) return new FifoScheduler();
  return et.type === 'hyperband'
    ? new AshaScheduler(space.metric, et)
    : new MedianScheduler(space.metric, et);
}
