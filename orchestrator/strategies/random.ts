/**
 * Random search, seeded and resumable.
 *
 * Proposal k (0-based, = `state.proposed`) draws from its own generator `new Prng(seed ^ salt, k)`, so it
 * depends only on the space's seed, k and (for finite spaces) the set of configurations seen before it:
 * a search resumed with the first k proposals as `seen` proposes exactly what an uninterrupted one would.
 *
 * Finite spaces (every parameter has finitely many values): never proposes a configuration already in
 * `seen` while unseen ones remain. A collision is redrawn from the same generator (up to MAX_REDRAWS
 * draws); after that, one unseen configuration is chosen uniformly (in grid order) with the same generator.
 * Returns null once every configuration is seen. Configurations are compared with `configKey` over the
 * space's parameters only.
 *
 * Either way returns null once `proposed` reaches run_cap. A space with a continuous parameter and no
 * run_cap never runs out: the caller must stop it.
 */
import type { TrialParams } from '../../shared/protocol/index.js';
import { Prng } from '../../shared/prng.js';
import type { SearchSpace } from '../search-space/types.js';
import { allParamNames, configAt, gridSize, inSpace } from '../search-space/values.js';
import { configKey, projectParams } from './key.js';
import { sampleConfig } from './sample.js';
import type { Strategy, StrategyState } from './strategy.js';

/** XORed into the space's seed so the strategy's streams differ from other uses of the same seed. */
export const STRATEGY_SALT = 0x5eed_c0de;
/** Draws per proposal before falling back to choosing among the unseen configurations directly. */
export const MAX_REDRAWS = 64;
/** Above this many configurations the fallback keeps drawing instead of enumerating the space. */
const ENUMERATION_LIMIT = 2_000_000;

export class RandomStrategy implements Strategy {
  /** Number of configurations of a finite space, null when a parameter is continuous. */
  readonly size: number | null;
  private readonly names: string[];
  private readonly seed: number;

  constructor(private readonly space: SearchSpace) {
    this.size = gridSize(space);
    this.names = allParamNames(space);
    this.seed = (space.seed ^ STRATEGY_SALT) >>> 0;
  }

  /** The generator of proposal k. */
  prngFor(k: number): Prng {
    return new Prng(this.seed, k);
  }

  next(state: StrategyState): TrialParams | null {
    if (this.space.run_cap !== undefined && state.proposed >= this.space.run_cap) return null;
    const prng = this.prngFor(state.proposed);
    if (this.size === null) return sampleConfig(this.space, prng);

    const seen = new Set<string>();
    for (const params of state.seen) {
      if (inSpace(this.space, params)) seen.add(configKey(projectParams(params, this.names)));
    }
    if (seen.size >= this.size) return null;
    for (let attempt = 0; attempt < MAX_REDRAWS; attempt++) {
      const params = sampleConfig(this.space, prng);
      if (!seen.has(configKey(params))) return params;
    }
    if (this.size <= ENUMERATION_LIMIT) {
      // The r-th unseen configuration in grid order, r uniform among the size - |seen| unseen ones.
      let r = prng.below(this.size - seen.size);
      for (let i = 0; i < this.size; i++) {
        const params = configAt(this.space, i);
        if (seen.has(configKey(params))) continue;
        if (r === 0) return params;
        r--;
      }
    }
    for (;;) {
      const params = sampleConfig(this.space, prng);
      if (!seen.has(configKey(params))) return params;
    }
  }
}
