/**
 * Property-based tests (fast-check) of search-space files: random text, random YAML shapes and
 * near-valid sweeps with random values never crash the parser or hang a strategy; every rejection is a
 * SearchSpaceError (a UsageError: exit code 2) naming the file and, for structure errors, the path.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import {
  SearchSpaceError,
  type SearchSpace,
  gridSize,
  inSpace,
  parseSearchSpace,
} from '../orchestrator/search-space/index.js';
import { createStrategy } from '../orchestrator/strategies/index.js';
import { UsageError } from '../shared/errors.js';

const tasks = builtinTaskCatalog();
const FILE = 'fuzz.yaml';

/** Parses; returns the space, or null after checking the error is the clear, typed kind. */
function parseOrReject(text: string): SearchSpace | null {
  try {
    return parseSearchSpace(text, { file: FILE, tasks });
  } catch (err) {
    assert.ok(err instanceof SearchSpaceError, `not a SearchSpaceError: ${String(err)}`);
    assert.ok(err instanceof UsageError);
    assert.ok(err.message.includes(FILE), err.message);
    assert.ok(err.issues.length > 0);
    for (const issue of err.issues) assert.equal(typeof issue.message, 'string');
    return null;
  }
}

/** An accepted space must drive its strategy: a few proposals, each inside the space, no throw. */
function exercise(space: SearchSpace): void {
  const strategy = createStrategy(space);
  const seen: Record<string, unknown>[] = [];
  const grid = gridSize(space);
  for (let i = 0; i < 5; i++) {
    const params = strategy.next({ proposed: seen.length, seen: seen as never, finished: [] });
    if (params === null) {
      assert.ok(seen.length >= Math.min(grid ?? Infinity, space.run_cap ?? Infinity), 'stopped early');
      return;
    }
    assert.ok(inSpace(space, params), `proposal outside the space: ${JSON.stringify(params)}`);
    seen.push(params);
  }
}

const number = fc.oneof(
  fc.double({ noNaN: false }),
  fc.integer(),
  fc.constantFrom(0, -1, 1e308, -1e308, 1e-320, Number.MAX_SAFE_INTEGER + 2),
);
const scalar = fc.oneof(number, fc.string({ maxLength: 12 }), fc.boolean(), fc.constant(null));
const paramSpec = fc.oneof(
  fc.record({ value: scalar }),
  fc.record({ values: fc.array(scalar, { maxLength: 6 }) }),
  fc.record(
    {
      distribution: fc.constantFrom(
        'uniform',
        'int_uniform',
        'log_uniform_values',
        'q_uniform',
        'q_log_uniform_values',
        'normal',
        'categorical',
        'bogus',
      ),
      min: number,
      max: number,
      q: number,
    },
    { requiredKeys: ['distribution'] },
  ),
  scalar,
);
const sweep = fc.record(
  {
    method: fc.constantFrom('grid', 'random', 'bayes', 'GRID', 42),
    task: fc.constantFrom('synthetic', 'multi-digit-mnist', 'nope'),
    metric: fc.record({
      name: fc.constantFrom('val_acc', 'val_loss', 'x'),
      goal: fc.constantFrom('maximize', 'minimize', 'up'),
    }),
    seed: fc.oneof(fc.integer(), number),
    run_cap: fc.oneof(fc.integer({ min: -2, max: 50 }), number),
    parameters: fc.dictionary(
      fc.oneof(
        fc.constantFrom('epochs', 'sleep_ms', 'arch', 'learning_rate', 'batch_size', '__proto__'),
        fc.string({ maxLength: 8 }),
      ),
      paramSpec,
      { maxKeys: 5 },
    ),
    early_terminate: fc.record({
      type: fc.constantFrom('hyperband', 'other'),
      min_iter: number,
      eta: number,
    }),
  },
  { requiredKeys: [] },
);

/** Sweeps valid by construction (synthetic task), so accepted spaces get exercised too. */
const validSpec = fc.oneof(
  fc.record({ value: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.string({ maxLength: 6 })) }),
  fc.record({ values: fc.uniqueArray(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 4 }) }),
  fc
    .tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }))
    .map(([min, d]) => ({ distribution: 'uniform', min, max: min + d })),
  fc
    .tuple(fc.integer({ min: -100, max: 100 }), fc.integer({ min: 0, max: 100 }))
    .map(([min, d]) => ({ distribution: 'int_uniform', min, max: min + d })),
  fc
    .tuple(fc.double({ min: 1e-6, max: 1, noNaN: true }), fc.double({ min: 1, max: 100, noNaN: true }))
    .map(([min, f]) => ({ distribution: 'log_uniform_values', min, max: min * f })),
);
const validSweep = fc.record({
  method: fc.constantFrom('grid', 'random'),
  task: fc.constant('synthetic'),
  metric: fc.record({ name: fc.constant('val_acc'), goal: fc.constantFrom('maximize', 'minimize') }),
  seed: fc.integer({ min: 0, max: 1000 }),
  run_cap: fc.integer({ min: 1, max: 20 }),
  parameters: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'lr', 'width'), validSpec, {
    minKeys: 1,
    maxKeys: 4,
  }),
});

describe('fuzz: search-space files', function () {
  this.timeout(60_000);

  it('random text: parsed or rejected with a SearchSpaceError naming the file', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        parseOrReject(text);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('random YAML shapes (any JSON value as the document)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => {
        const space = parseOrReject(stringify(doc));
        if (space) exercise(space);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('near-valid sweeps with random values: rejected with paths, or accepted and runnable', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(validSweep, sweep), (doc) => {
        const space = parseOrReject(stringify(doc));
        if (space) {
          accepted++;
          exercise(space);
        }
      }),
      { numRuns: 400, seed: 13 },
    );
    // The generator must reach past the first checks sometimes, or the property proves little.
    assert.ok(accepted > 0, 'no generated sweep was accepted');
  });

  it('deep nesting, long strings and many keys are rejected without a crash or a hang', () => {
    const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
    const huge = {
      method: 'grid',
      task: 'synthetic',
      parameters: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`p${i}`, { values: [1, 2] }])),
    };
    for (const doc of [
      `method: grid\nparameters:\n  a: {values: ${deep}}\n`,
      `method: ${'x'.repeat(1_000_000)}`,
      stringify(huge),
      '&a [*a, *a]',
      'a: &x {b: *x}',
    ]) {
      const space = parseOrReject(doc);
      if (space) exercise(space);
    }
  });
});
