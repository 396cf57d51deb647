import { UsageError } from '../../worker/errors.js';
import type { SearchSpace } from '../search-space/types.js';
import { GridStrategy } from './grid.js';
import { RandomStrategy } from './random.js';
import type { Strategy } from './strategy.js';

/** The strategy for the space's method. `bayes` is parsed but has no sampler yet: a UsageError, no fallback. */
export function createStrategy(space: SearchSpace): Strategy {
  switch (space.method) {
    case 'grid':
      return new GridStrategy(space);
    case 'random':
      return new RandomStrategy(space);
    case 'bayes':
      throw new UsageError('method bayes needs the TPE sampler, which is not built yet; use grid or random');
  }
}
