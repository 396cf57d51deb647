import type { SearchSpace } from '../search-space/types.js';
import { GridStrategy } from './grid.js';
import { RandomStrategy } from './random.js';
import type { Strategy } from './strategy.js';
import { TpeStrategy } from './tpe.js';

/** The strategy for the space's method: grid, random, or TPE for bayes. */
export function createStrategy(space: SearchSpace): Strategy {
  switch (space.method) {
    case 'grid':
      return new GridStrategy(space);
    case 'random':
      return new RandomStrategy(space);
    case 'bayes':
      return new TpeStrategy(space);
  }
}
