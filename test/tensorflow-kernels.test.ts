/**
 * hpo's kernels for backend `tensorflow` (MaxPoolGrad via MaxPoolWithArgmax, Step as Sign(Relu)) give
 * the same gradients as tfjs-node's own, ties included (test/native/kernel-check.ts, in a child process).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { skipUnlessNativeBackend } from './helpers/native-backend.js';

const CHECK = fileURLToPath(new URL('./native/kernel-check.js', import.meta.url));

describe('tensorflow backend kernels', function () {
  this.timeout(300_000);

  it('max-pool and ReLU gradients equal tfjs-node stock kernels exactly, ties and NaN included', function () {
    skipUnlessNativeBackend(this);
    const r = spawnSync(process.execPath, [CHECK], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const out = JSON.parse(r.stdout.trim().split('\n').slice(-1)[0]) as {
      cases: { name: string; max_abs_diff: number; nonzero: number }[];
      step: string;
      stock_step: string;
    };
    assert.equal(out.cases.length, 5);
    for (const c of out.cases) {
      assert.equal(c.max_abs_diff, 0, `${c.name}: gradients differ by ${c.max_abs_diff}`);
      assert.ok(c.nonzero > 0, `${c.name}: a gradient flows`);
    }
    assert.equal(out.step, 'NaN,0,0,1,1');
    assert.equal(out.step, out.stock_step);
  });
});
