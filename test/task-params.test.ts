import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import assert from 'node:assert/strict';
import { ParamError, UsageError } from '../shared/errors.js';
import { resolveParams, type TaskParams } from '../shared/task-params.js';
import type { TrialSpec } from '../shared/protocol/index.js';
import { SYNTHETIC_PARAMS } from '../worker/tasks/synthetic-params.js';
import { getTask } from '../worker/tasks/index.js';

describe('task parameter rules (resolveParams)', () => {
  it('applies defaults, keeps given values and leaves optional ones undefined', () => {
    assert.deepEqual(resolveParams({ lr: 0.1 }, SYNTHETIC_PARAMS), {
      epochs: 5,
      sleep_ms: 0,
      fail_at_epoch: undefined,
    });
    assert.deepEqual(resolveParams({ epochs: 2, sleep_ms: 1.5, fail_at_epoch: 0 }, SYNTHETIC_PARAMS), {
      epochs: 2,
      sleep_ms: 1.5,
      fail_at_epoch: 0,
    });
  });

  it('throws a ParamError (a UsageError) naming the parameter, what it accepts and what came', () => {
    const cases: [Record<string, number | string | boolean>, string, string][] = [
      [{ epochs: 0 }, 'epochs', 'params.epochs: expected an integer > 0, got 0'],
      [{ epochs: '3' }, 'epochs', 'params.epochs: expected an integer > 0, got "3"'],
      [{ sleep_ms: -1 }, 'sleep_ms', 'params.sleep_ms: expected a number >= 0, got -1'],
      [{ fail_at_epoch: true }, 'fail_at_epoch', 'params.fail_at_epoch: expected an integer >= 0, got true'],
    ];
    for (const [params, name, message] of cases) {
      assert.throws(
        () => resolveParams(params, SYNTHETIC_PARAMS),
        (err: unknown) => {
          assert.ok(err instanceof ParamError && err instanceof UsageError, String(err));
          assert.equal(err.message, message);
          assert.equal(err.param, name);
          assert.deepEqual(err.value, params[name]);
          return true;
        },
      );
    }
  });

  it('checks a default against its rule too, and reads only own properties', () => {
    const task = {
      params: { mode: { type: 'choice', choices: ['a', 'b'] } },
      open: false,
      defaults: { mode: 'c' },
    } satisfies TaskParams;
    assert.throws(() => resolveParams({}, task), /^ParamError: params\.mode: expected one of a, b, got "c"$/);
    assert.deepEqual(resolveParams({ mode: 'b' }, task), { mode: 'b' });
    const inherited = Object.create({ mode: 'x' }) as Record<string, string>;
    assert.throws(() => resolveParams(inherited, task), /got "c"/);
  });

  it('the synthetic task refuses bad reserved params before its first epoch', async () => {
    const epochs: number[] = [];
    const spec: TrialSpec = {
      v: PROTOCOL_VERSION,
      experiment: 'e',
      experiment_id: 'e',
      trial_id: 't1',
      attempt: 1,
      task: 'synthetic',
      params: { epochs: 2, sleep_ms: -5, x: 1 },
      seed: 1,
    };
    const ctx = {
      reportEpoch: async (epoch: number) => {
        epochs.push(epoch);
        return 'continue' as const;
      },
      signal: new AbortController().signal,
      backend: 'cpu' as const,
    };
    await assert.rejects(
      getTask('synthetic').run(spec, ctx),
      /^ParamError: params\.sleep_ms: expected a number >= 0, got -5$/,
    );
    assert.deepEqual(epochs, []);
    const outcome = await getTask('synthetic').run({ ...spec, params: { epochs: 2, x: 1 } }, ctx);
    assert.deepEqual(epochs, [1, 2]);
    assert.equal(outcome.epochs, 2);
  });
});
