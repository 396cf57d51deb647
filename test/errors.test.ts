import assert from 'node:assert/strict';
import * as errors from '../shared/errors.js';
import { SearchSpaceError as FromSearchSpace } from '../orchestrator/search-space/index.js';
import {
  NotOurDatabaseError as FromStore,
  StoreError as StoreFromStore,
} from '../orchestrator/store/index.js';
import { TrialInterruptedError as FromExecutor } from '../shared/protocol/executor.js';

describe('typed errors (shared/errors.ts)', () => {
  const cause = new Error('underlying');
  const made: [errors.HpoError, string, string][] = [
    [new errors.HpoError('m', { cause }), 'HpoError', 'm'],
    [new errors.UsageError('m', { cause }), 'UsageError', 'm'],
    [
      new errors.ParamError('lr', 'a number > 0', -1, { cause }),
      'ParamError',
      'params.lr: expected a number > 0, got -1',
    ],
    [new errors.DataError('m', 'f.hpod', { cause }), 'DataError', 'm'],
    [new errors.BackendError('m', { cause }), 'BackendError', 'm'],
    [
      new errors.SearchSpaceError('s.yaml', [{ path: 'a.b', message: 'bad', line: 3 }], { cause }),
      'SearchSpaceError',
      's.yaml:3: a.b: bad',
    ],
    [new errors.StoreError('m', { cause, file: 'x.db' }), 'StoreError', 'm'],
    [new errors.NotOurDatabaseError('m', 'foreign', 'x.db', { cause }), 'NotOurDatabaseError', 'm'],
    [new errors.TrialInterruptedError('t1', { cause }), 'TrialInterruptedError', 'trial t1 was interrupted'],
    [new errors.TrainingAbortedError('m', { cause }), 'TrainingAbortedError', 'm'],
    [
      new errors.WasmKernelUnsupportedError('Conv2D', 'dilations', 'only 1', { cause }),
      'WasmKernelUnsupportedError',
      'wasm kernel Conv2D: unsupported dilations: only 1',
    ],
  ];

  it('every class is an HpoError with its own name, its message and a cause', () => {
    for (const [err, name, message] of made) {
      assert.ok(err instanceof errors.HpoError, name);
      assert.equal(err.name, name);
      assert.equal(err.message, message);
      assert.equal(err.cause, cause, name);
    }
    assert.equal(new errors.UsageError('m').cause, undefined);
    assert.ok(!('cause' in new errors.UsageError('m')), 'no cause property unless one was given');
  });

  it('user mistakes are UsageErrors; the store errors keep their file', () => {
    for (const [err, name] of made) {
      const usage = ['UsageError', 'ParamError', 'SearchSpaceError'].includes(name);
      assert.equal(err instanceof errors.UsageError, usage, name);
    }
    const refused = new errors.NotOurDatabaseError('m', 'newer-schema', 'x.db');
    assert.ok(refused instanceof errors.StoreError);
    assert.equal(refused.file, 'x.db');
    assert.equal(refused.reason, 'newer-schema');
  });

  it('the folders that raise them re-export the same classes (one definition)', () => {
    assert.equal(FromSearchSpace, errors.SearchSpaceError);
    assert.equal(FromStore, errors.NotOurDatabaseError);
    assert.equal(StoreFromStore, errors.StoreError);
    assert.equal(FromExecutor, errors.TrialInterruptedError);
  });
});
