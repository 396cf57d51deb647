/**
 * Behaviour every Strategy must have (orchestrator/strategies/strategy.ts). A test file calls
 * `strategyContract(name, factory)` once per implementation; the factory builds a fresh strategy for a
 * space (its method set by the caller), so the suite can compare a live strategy with a resumed one.
 */
import assert from 'node:assert/strict';

import type { FinalState, TrialParams } from '../../shared/protocol/index.js';
import type { ParamSpec, ParamSpecs, SearchSpace } from '../../orchestrator/search-space/index.js';
import { choiceIndex, gridSize, inSpace } from '../../orchestrator/search-space/index.js';
import { configKey, type FinishedProposal, type Strategy } from '../../orchestrator/strategies/index.js';
import { syntheticSpace } from '../helpers/space.js';

/** A finite space of 2 x 3 x 2 = 12 configurations. */
export const FINITE_SPACE: ParamSpecs = {
  arch: { kind: 'categorical', values: ['mlp', 'cnn'] },
  batch_size: { kind: 'int_uniform', min: 1, max: 3 },
  dropout: { kind: 'q_uniform', min: 0, max: 0.2, q: 0.2 },
  seed_fixed: { kind: 'constant', value: 7 },
};

/** Continuous parameters of several kinds (unbounded normals included). */
export const CONTINUOUS_SPACE: ParamSpecs = {
  lr: { kind: 'log_uniform_values', min: 1e-5, max: 1e-1 },
  momentum: { kind: 'uniform', min: 0, max: 0.99 },
  width: { kind: 'q_log_uniform_values', min: 8, max: 512, q: 8 },
  shift: { kind: 'normal', mu: 0, sigma: 2 },
  scale: { kind: 'q_log_normal', mu: 1, sigma: 0.5, q: 0.5 },
  arch: { kind: 'categorical', values: ['mlp', 'cnn', 'scnn'] },
};

/** A conditional space: lr and momentum exist only under some values of opt; lr as given. */
function conditional(sgdLr: ParamSpec, adamLr: ParamSpec): ParamSpecs {
  return {
    opt: {
      kind: 'categorical',
      values: ['sgd', 'adam', 'none'],
      branches: [{ lr: sgdLr, momentum: { kind: 'categorical', values: [0, 0.9] } }, { lr: adamLr }, null],
    },
    width: { kind: 'categorical', values: [8, 16] },
  };
}

/** Conditional and finite: (2 x 3 + 2 + 1) x 2 = 18 configurations. */
export const CONDITIONAL_FINITE_SPACE = conditional(
  { kind: 'categorical', values: [0.01, 0.1, 1] },
  { kind: 'categorical', values: [1e-4, 1e-3] },
);

/** Conditional with continuous branch parameters. */
export const CONDITIONAL_SPACE = conditional(
  { kind: 'log_uniform_values', min: 0.01, max: 1 },
  { kind: 'log_uniform_values', min: 1e-5, max: 1e-3 },
);

/** The names of the parameters active in `params` (its branches' included), sorted. */
function activeNames(specs: ParamSpecs, params: Readonly<TrialParams>): string[] {
  const names: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    names.push(name);
    const branch = branchTaken(spec, params[name]);
    if (branch) names.push(...activeNames(branch, params));
  }
  return names.sort();
}

function branchTaken(spec: ParamSpec, value: TrialParams[string] | undefined): ParamSpecs | null {
  if (spec.kind !== 'categorical' || !spec.branches) return null;
  return spec.branches[choiceIndex(spec, value)] ?? null;
}

/** A deterministic objective of a configuration (so model-based strategies get past their start-up). */
function objective(params: TrialParams): number {
  const key = configKey(params);
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return (h % 1000) / 1000;
}

/**
 * Runs a search of up to `count` proposals as the orchestrator does: every proposal joins `seen`;
 * all but the last `pending` of them have finished (their value from `objective`, every fifth failed).
 * `fresh` builds a new strategy for each proposal (a resume before each one) instead of one for all.
 */
function search(make: () => Strategy, count: number, fresh = false, pending = 3): TrialParams[] {
  const seen: TrialParams[] = [];
  const finished: FinishedProposal[] = [];
  let strategy = make();
  while (seen.length < count) {
    if (fresh) strategy = make();
    const next = strategy.next({ proposed: seen.length, seen, finished });
    if (next === null) break;
    seen.push(next);
    const done = seen.length - pending;
    if (done > finished.length) {
      const params = seen[finished.length];
      const state: FinalState = finished.length % 5 === 4 ? 'failed' : 'completed';
      finished.push({ params, value: state === 'failed' ? null : objective(params), state, epochs: 3 });
    }
  }
  return seen;
}

/**
 * `factory(space)`: a new strategy of the implementation under test for `space`; `method` is the
 * space's method. `continuous`: whether the strategy can search continuous spaces (grid cannot).
 */
export function strategyContract(
  name: string,
  method: SearchSpace['method'],
  factory: (space: SearchSpace) => Strategy,
  continuous = true,
): void {
  const spaceOf = (parameters: ParamSpecs, extra: Partial<SearchSpace> = {}) =>
    syntheticSpace(parameters, { method, seed: 11, ...extra });
  const spaces: [string, ParamSpecs][] = [
    ['finite', FINITE_SPACE],
    ['conditional finite', CONDITIONAL_FINITE_SPACE],
  ];
  if (continuous) spaces.push(['continuous', CONTINUOUS_SPACE], ['conditional', CONDITIONAL_SPACE]);

  describe(`Strategy contract: ${name}`, () => {
    for (const [label, parameters] of spaces) {
      it(`${label} space: every proposal gives each active parameter a value of its own, and nothing else`, () => {
        const space = spaceOf(parameters, { run_cap: 40 });
        const proposals = search(() => factory(space), 40);
        assert.ok(proposals.length > 0);
        for (const p of proposals) {
          assert.ok(inSpace(space, p), `outside the space: ${JSON.stringify(p)}`);
          assert.deepEqual(Object.keys(p).sort(), activeNames(parameters, p), JSON.stringify(p));
        }
      });

      it(`${label} space: deterministic under its seed, and a resumed strategy proposes what the live one would`, () => {
        const space = spaceOf(parameters, { run_cap: 30 });
        const live = search(() => factory(space), 30);
        assert.deepEqual(
          search(() => factory(space), 30),
          live,
        );
        assert.deepEqual(
          search(() => factory(space), 30, true),
          live,
        );
        const other = search(() => factory({ ...space, seed: 12 }), 30);
        if (method !== 'grid') assert.notDeepEqual(other, live, 'another seed, another search');
      });
    }

    it('stops at run_cap', () => {
      const space = spaceOf(continuous ? CONTINUOUS_SPACE : FINITE_SPACE, { run_cap: 5 });
      assert.equal(search(() => factory(space), 100).length, 5);
      const strategy = factory(space);
      const seen = search(() => factory(space), 5);
      assert.equal(strategy.next({ proposed: 5, seen, finished: [] }), null);
    });

    for (const [label, parameters] of spaces.slice(0, 2)) {
      it(`${label} space: no configuration twice (pending ones included), then null once all are seen`, () => {
        const space = spaceOf(parameters);
        const size = gridSize(space) as number;
        // Ten trials stay pending throughout: a strategy must not propose them again either.
        const proposals = search(() => factory(space), size + 5, false, 10);
        assert.equal(proposals.length, size);
        assert.equal(new Set(proposals.map(configKey)).size, size);
      });
    }
  });
}
