import assert from 'node:assert/strict';

import type { TrialParams } from '../shared/protocol/index.js';
import type { ParamSpec } from '../orchestrator/search-space/index.js';
import {
  configKey,
  createStrategy,
  GridStrategy,
  RandomStrategy,
  sampleParam,
  type Strategy,
  TpeStrategy,
} from '../orchestrator/strategies/index.js';
import { syntheticSpace } from './helpers/space.js';
import { Prng } from '../shared/prng.js';
import { UsageError } from '../shared/errors.js';

const space = syntheticSpace;

/** Proposals until null (or `limit`), feeding back what was proposed like the orchestrator does. */
function run(strategy: Strategy, limit = 1000, seen: TrialParams[] = []): TrialParams[] {
  const out = [...seen];
  while (out.length < limit) {
    const next = strategy.next({ proposed: out.length, seen: out, finished: [] });
    if (next === null) break;
    out.push(next);
  }
  return out.slice(seen.length);
}

const FINITE_12: Record<string, ParamSpec> = {
  arch: { kind: 'categorical', values: ['mlp', 'cnn', 'scnn'] },
  optimizer: { kind: 'categorical', values: ['sgd', 'adam'] },
  batch_size: { kind: 'categorical', values: [32, 64] },
};

const FINITE_8: Record<string, ParamSpec> = {
  a: { kind: 'categorical', values: ['x', 'y'] },
  b: { kind: 'int_uniform', min: 1, max: 2 },
  c: { kind: 'q_uniform', min: 0, max: 0.2, q: 0.2 },
  d: { kind: 'constant', value: true },
};

const MIXED: Record<string, ParamSpec> = {
  arch: { kind: 'categorical', values: ['mlp', 'cnn'] },
  lr: { kind: 'log_uniform_values', min: 1e-5, max: 1e-2 },
  bs: { kind: 'int_uniform', min: 8, max: 256 },
};

describe('strategies', () => {
  describe('configKey', () => {
    it('is canonical JSON with sorted keys', () => {
      assert.equal(configKey({ b: 1, a: 'x', c: true }), '{"a":"x","b":1,"c":true}');
      assert.equal(configKey({ a: 1 }), configKey(JSON.parse(JSON.stringify({ a: 1 })) as TrialParams));
      assert.notEqual(configKey({ a: 1 }), configKey({ a: '1' }));
    });
  });

  describe('grid', () => {
    it('yields the 12 combinations of 3 x 2 x 2 values in odometer order, then null', () => {
      const got = run(new GridStrategy(space(FINITE_12, { method: 'grid' })));
      assert.equal(got.length, 12);
      assert.equal(new Set(got.map(configKey)).size, 12);
      assert.deepEqual(got[0], { arch: 'mlp', optimizer: 'sgd', batch_size: 32 });
      assert.deepEqual(got[1], { arch: 'mlp', optimizer: 'sgd', batch_size: 64 });
      assert.deepEqual(got[2], { arch: 'mlp', optimizer: 'adam', batch_size: 32 });
      assert.deepEqual(got[4], { arch: 'cnn', optimizer: 'sgd', batch_size: 32 });
      assert.deepEqual(got[11], { arch: 'scnn', optimizer: 'adam', batch_size: 64 });
    });

    it('honours run_cap', () => {
      const got = run(createStrategy(space(FINITE_12, { method: 'grid', run_cap: 5 })));
      assert.equal(got.length, 5);
      assert.equal(new Set(got.map(configKey)).size, 5);
    });

    it('enumerates int_uniform and q_uniform values ascending', () => {
      const got = run(
        new GridStrategy(
          space({
            n: { kind: 'int_uniform', min: 2, max: 4 },
            q: { kind: 'q_uniform', min: 0, max: 0.3, q: 0.1 },
          }),
        ),
      );
      assert.equal(got.length, 12);
      assert.deepEqual(
        got.slice(0, 4).map((p) => p.q),
        [0, 0.1, 0.2, 0.3],
      );
      assert.deepEqual([...new Set(got.map((p) => p.n))], [2, 3, 4]);
    });

    it('resumes at proposal k', () => {
      const s = space(FINITE_12, { method: 'grid' });
      const all = run(new GridStrategy(s));
      assert.deepEqual(run(new GridStrategy(s), 1000, all.slice(0, 7)), all.slice(7));
    });

    it('refuses a continuous parameter', () => {
      assert.throws(() => new GridStrategy(space(MIXED, { method: 'grid' })), UsageError);
    });
  });

  describe('random', () => {
    it('over a finite space of 8 with run_cap 20: exactly the 8 configurations, then null', () => {
      const got = run(new RandomStrategy(space(FINITE_8, { run_cap: 20 })));
      assert.equal(got.length, 8);
      assert.equal(new Set(got.map(configKey)).size, 8);
    });

    it('exhausts a larger finite space (collisions fall back to choosing among the unseen)', () => {
      const s = space({
        n: { kind: 'int_uniform', min: 1, max: 300 },
        b: { kind: 'categorical', values: [false, true] },
      });
      const got = run(new RandomStrategy(s));
      assert.equal(got.length, 600);
      assert.equal(new Set(got.map(configKey)).size, 600);
      const again = new RandomStrategy(s);
      assert.deepEqual(again.next({ proposed: 599, seen: got.slice(0, 599), finished: [] }), got[599]);
    });

    it('stops at run_cap', () => {
      assert.equal(run(new RandomStrategy(space(MIXED, { run_cap: 17 }))).length, 17);
      assert.equal(run(new RandomStrategy(space(FINITE_12, { run_cap: 5 }))).length, 5);
    });

    it('is deterministic for a seed and differs across seeds', () => {
      const a = run(new RandomStrategy(space(MIXED, { run_cap: 30 })));
      const b = run(new RandomStrategy(space(MIXED, { run_cap: 30 })));
      const c = run(new RandomStrategy(space(MIXED, { run_cap: 30, seed: 2 })));
      assert.deepEqual(a, b);
      assert.notDeepEqual(a, c);
      assert.ok(a.filter((p, i) => p.lr === c[i].lr).length === 0);
    });

    it('resumes exactly: proposal k+1 after a restart equals the uninterrupted one', () => {
      for (const params of [MIXED, FINITE_8, FINITE_12]) {
        const s = space(params, { run_cap: 20 });
        const all = run(new RandomStrategy(s));
        for (const k of [0, 1, 3, 7]) {
          if (k >= all.length) continue;
          const fresh = new RandomStrategy(s);
          assert.deepEqual(
            fresh.next({ proposed: k, seen: all.slice(0, k), finished: [] }),
            all[k],
            `k=${k}`,
          );
        }
      }
    });

    it('ignores seen params outside the space and extra fields', () => {
      const s = space(FINITE_8, { run_cap: 20 });
      const stranger = { a: 'z', b: 1, c: 0, d: true };
      const got = run(new RandomStrategy(s), 1000, [stranger]);
      assert.equal(got.length, 8);
      const withExtra = run(new RandomStrategy(s)).map((p) => ({ ...p, note: 'x' }));
      assert.equal(new RandomStrategy(s).next({ proposed: 8, seen: withExtra, finished: [] }), null);
    });

    it('the q values are canonical (0.2 not 0.20000000000000004)', () => {
      const got = run(new RandomStrategy(space({ c: { kind: 'q_uniform', min: 0, max: 1, q: 0.1 } })));
      assert.deepEqual(
        [...new Set(got.map((p) => p.c))].sort(),
        [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
      );
    });
  });

  describe('distributions', () => {
    const draws = (spec: ParamSpec, n = 2000): number[] => {
      const prng = new Prng(42, 0);
      return Array.from({ length: n }, () => sampleParam(spec, prng) as number);
    };
    const within = (xs: number[], min: number, max: number) => xs.every((x) => x >= min && x <= max);

    it('uniform stays in [min, max] and spreads over it', () => {
      const xs = draws({ kind: 'uniform', min: -2, max: 3 });
      assert.ok(within(xs, -2, 3));
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      assert.ok(Math.abs(mean - 0.5) < 0.15, `mean ${mean}`);
    });

    it('log_uniform_values is uniform in log space (median near the geometric mean)', () => {
      const xs = draws({ kind: 'log_uniform_values', min: 1e-5, max: 1e-1 });
      assert.ok(within(xs, 1e-5, 1e-1));
      const median = [...xs].sort((a, b) => a - b)[xs.length / 2];
      const geo = Math.sqrt(1e-5 * 1e-1);
      assert.ok(Math.abs(median / geo - 1) < 0.2, `median ${median} vs ${geo}`);
    });

    it('int_uniform hits both ends and only integers', () => {
      const xs = draws({ kind: 'int_uniform', min: 3, max: 7 });
      assert.ok(within(xs, 3, 7) && xs.every(Number.isInteger));
      assert.deepEqual([...new Set(xs)].sort(), [3, 4, 5, 6, 7]);
    });

    it('q_uniform gives multiples of q in [min, max]', () => {
      const xs = draws({ kind: 'q_uniform', min: 0.05, max: 1, q: 0.25 });
      assert.ok(within(xs, 0.05, 1));
      assert.ok(xs.every((x) => Math.abs(x / 0.25 - Math.round(x / 0.25)) < 1e-9));
      assert.deepEqual([...new Set(xs)].sort(), [0.25, 0.5, 0.75, 1]);
    });

    it('q_log_uniform_values gives multiples of q in [min, max], denser at the low end', () => {
      const xs = draws({ kind: 'q_log_uniform_values', min: 8, max: 512, q: 8 });
      assert.ok(within(xs, 8, 512) && xs.every((x) => x % 8 === 0));
      assert.ok(xs.filter((x) => x <= 64).length > xs.length / 3);
    });

    it('constant and categorical', () => {
      assert.ok(draws({ kind: 'constant', value: 4 }, 10).every((x) => x === 4));
      assert.deepEqual([...new Set(draws({ kind: 'categorical', values: [1, 2, 3] }))].sort(), [1, 2, 3]);
    });
  });

  describe('createStrategy', () => {
    it('builds grid, random, and TPE for bayes', () => {
      assert.ok(createStrategy(space(FINITE_12, { method: 'grid' })) instanceof GridStrategy);
      assert.ok(createStrategy(space(MIXED)) instanceof RandomStrategy);
      assert.ok(createStrategy(space(MIXED, { method: 'bayes' })) instanceof TpeStrategy);
    });
  });
});
