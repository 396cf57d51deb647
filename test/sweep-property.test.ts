/**
 * Property (fast-check): every file `hpo validate` accepts, `hpo search --dry-run` can propose from.
 * Files are generated over every construct of W&B's sweep format (all distributions with and without
 * their optional keys, nested parameters, null / list / mapping values, probabilities, metric without
 * goal, target, hyperband strict) and hpo's conditional `branches`, valid or nearly so.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import { dryRunProposals } from '../cli/commands/search-preview.js';
import {
  analyseSearchSpace,
  gridSize,
  inSpace,
  SearchSpaceError,
  type SearchSpace,
} from '../orchestrator/search-space/index.js';
import { createStrategy, type FinishedProposal } from '../orchestrator/strategies/index.js';
import type { TrialParams } from '../shared/protocol/index.js';

const tasks = builtinTaskCatalog();

const small = fc.double({ min: -20, max: 20, noNaN: true, noDefaultInfinity: true });
const positive = fc.double({ min: 1e-4, max: 1e4, noNaN: true, noDefaultInfinity: true });
const q = fc.constantFrom(undefined, 1, 2, 0.5, 0.1, 16);
const leaf = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom('a', 'b', 'c', 'relu'),
  fc.boolean(),
  fc.constant(null),
);
const richValue = fc.oneof(
  leaf,
  fc.array(leaf, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('k', 'm'), leaf, { maxKeys: 2 }),
);

const without = <T extends Record<string, unknown>>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const ranged = fc
  .tuple(
    fc.constantFrom('uniform', 'int_uniform', 'q_uniform', 'log_uniform', 'q_log_uniform', 'inv_log_uniform'),
    small,
    small,
    q,
  )
  .map(([distribution, a, b, step]) => {
    const [min, max] =
      distribution === 'int_uniform'
        ? [Math.round(Math.min(a, b)), Math.round(Math.max(a, b))]
        : [Math.min(a, b), Math.max(a, b)];
    return without({ distribution, min, max, q: distribution.startsWith('q_') ? step : undefined });
  });
const valued = fc
  .tuple(
    fc.constantFrom('log_uniform_values', 'q_log_uniform_values', 'inv_log_uniform_values'),
    positive,
    positive,
    q,
  )
  .map(([distribution, a, b, step]) =>
    without({
      distribution,
      min: Math.min(a, b),
      max: Math.max(a, b),
      q: distribution.startsWith('q_') ? step : undefined,
    }),
  );
const normals = fc
  .tuple(
    fc.constantFrom('normal', 'q_normal', 'log_normal', 'q_log_normal'),
    fc.option(small),
    fc.option(fc.double({ min: 0.01, max: 3, noNaN: true })),
    q,
  )
  .map(([distribution, mu, sigma, step]) =>
    without({
      distribution,
      mu: mu ?? undefined,
      sigma: sigma ?? undefined,
      q: distribution.startsWith('q_') ? step : undefined,
    }),
  );
const categorical = fc
  .tuple(
    fc.uniqueArray(richValue, { minLength: 1, maxLength: 4, selector: (v) => JSON.stringify(v) }),
    fc.boolean(),
  )
  .map(([values, weighted]) => {
    if (!weighted) return { values };
    const w = values.map((_, i) => i + 1);
    const total = w.reduce((x, y) => x + y, 0);
    return { values, probabilities: w.map((x) => x / total) };
  });
const constant = richValue.map((value) => ({ value }));
const minMax = fc.tuple(small, small).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) }));

const names = fc.constantFrom('lr', 'width', 'depth', 'mode', 'opt', 'x');

const { param } = fc.letrec<{ param: unknown; params: unknown }>((tie) => ({
  param: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    constant,
    categorical,
    ranged,
    valued,
    normals,
    minMax,
    tie('params').map((parameters) => ({ parameters })),
    fc.tuple(fc.subarray(['a', 'b', 'c'], { minLength: 1 }), tie('params')).map(([keys, sub]) => ({
      values: ['a', 'b', 'c'],
      branches: Object.fromEntries(keys.map((k) => [k, sub])),
    })),
  ),
  params: fc.dictionary(names, tie('param'), { minKeys: 1, maxKeys: 3 }),
}));

const sweep = fc.record(
  {
    method: fc.constantFrom('grid', 'random', 'bayes'),
    task: fc.constant('synthetic'),
    metric: fc.oneof(
      fc.record({ name: fc.constantFrom('val_acc', 'val_loss') }),
      fc.record({
        name: fc.constant('val_acc'),
        goal: fc.constantFrom('maximize', 'minimize'),
        target: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
    ),
    run_cap: fc.integer({ min: 1, max: 30 }),
    run_time_budget: fc.constantFrom(60, '15m', '1h30m'),
    project: fc.constant('p'),
    parameters: fc.dictionary(names, param, { minKeys: 1, maxKeys: 4 }),
    early_terminate: fc.record(
      { type: fc.constant('hyperband'), min_iter: fc.integer({ min: 1, max: 3 }), strict: fc.boolean() },
      { requiredKeys: ['type', 'min_iter'] },
    ),
  },
  { requiredKeys: ['method', 'task', 'parameters', 'run_cap'] },
);

/** Accepted → the first proposals of grid/random/TPE are inside the space, and TPE works past start-up. */
function proposeFrom(space: SearchSpace): void {
  const strategy = createStrategy(space);
  const seen: TrialParams[] = [];
  const finished: FinishedProposal[] = [];
  const want = Math.min(space.run_cap ?? 12, 12, gridSize(space) ?? Infinity);
  for (let i = 0; i < want; i++) {
    const params = strategy.next({ proposed: i, seen, finished });
    assert.ok(params, `no proposal ${i} of ${want}`);
    assert.ok(inSpace(space, params), `proposal outside the space: ${JSON.stringify(params)}`);
    seen.push(params);
    finished.push({ params, value: i / 10 });
  }
}

describe('property: every file validate accepts, search --dry-run can propose from', function () {
  this.timeout(120_000);

  it('generated W&B sweeps (with hpo branches)', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(sweep, (doc) => {
        const text = stringify(doc);
        let space: SearchSpace;
        try {
          space = analyseSearchSpace(text, { file: 'gen.yaml', tasks }).space;
        } catch (err) {
          assert.ok(err instanceof SearchSpaceError, String(err));
          rejected++;
          return;
        }
        accepted++;
        proposeFrom(space);
        const out = dryRunProposals(space, 3);
        assert.match(out, /^first [1-3] proposals/);
      }),
      { numRuns: 400, seed: 16 },
    );
    assert.ok(accepted > 100, `only ${accepted} of ${accepted + rejected} generated files were accepted`);
  });
});
