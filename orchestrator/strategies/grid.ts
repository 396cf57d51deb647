/**
 * Grid search: every combination of the parameters' values, in odometer order (parameters in file order,
 * the first varying slowest; each parameter's values in file order, or ascending for int_uniform and the
 * q distributions). Proposal k is combination number k, so a resumed search continues exactly where it
 * stopped; `seen` is not consulted.
 */
import type { TrialParams } from '../../shared/protocol/index.js';
import { UsageError } from '../../shared/errors.js';
import type { SearchSpace } from '../search-space/types.js';
import { configAt, gridSize, valueCount } from '../search-space/values.js';
import type { Strategy, StrategyState } from './strategy.js';

export class GridStrategy implements Strategy {
  /** Number of combinations (before run_cap). */
  readonly size: number;
  /** How many configurations this strategy will propose: min(size, run_cap). */
  readonly total: number;

  constructor(private readonly space: SearchSpace) {
    const size = gridSize(space);
    if (size === null) {
      const found = Object.entries(space.parameters).find(([, s]) => valueCount(s) === null);
      const what = found ? `parameters.${found[0]} is ${found[1].kind} (or has a continuous branch)` : '';
      throw new UsageError(`method grid needs finite parameters; ${what}`);
    }
    this.size = size;
    this.total = Math.min(size, space.run_cap ?? Infinity);
  }

  next(state: StrategyState): TrialParams | null {
    if (state.proposed >= this.total) return null;
    return configAt(this.space, state.proposed);
  }
}
