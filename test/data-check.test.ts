/**
 * The worker's data check (worker/data/check.ts) on real data sets, no bus: the generated seed-1 set
 * matches its own sha256; a worker whose cached seed-1 set differs by one pixel refuses the trial with
 * both hashes; a seed outside the worker's allowed list is refused before anything is built.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION, type TrialSpec } from '../shared/protocol/index.js';
import { cacheFilePath, createDataCheck, type TwoDigitDataset } from '../worker/data/index.js';
import { writeDatasetFile } from '../worker/data/format.js';
import { testDataset, TEST_DATA_DIR } from './helpers/dataset.js';

function trial(data: TrialSpec['data'], task = 'multi-digit-mnist'): TrialSpec {
  return {
    v: PROTOCOL_VERSION,
    experiment: 'e',
    experiment_id: 'e',
    trial_id: 't0000',
    attempt: 1,
    task,
    params: { arch: 'mlp', epochs: 1 },
    seed: 1,
    ...(data ? { data } : {}),
  };
}

describe('worker data check (real data sets)', function () {
  this.timeout(120_000);
  let dir: string;
  let real: TwoDigitDataset;
  let otherSha: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-data-check-'));
    real = await testDataset();
    // Another machine's seed-1 cache with one pixel different: a valid file, another sha256.
    const images = Uint8Array.from(real.train.images);
    images[0] = images[0] === 255 ? 0 : 255;
    otherSha = await writeDatasetFile(cacheFilePath(1, join(dir, 'other')), {
      ...real,
      train: { ...real.train, images },
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('accepts a trial whose seed and sha256 match its own set', async () => {
    const check = createDataCheck({ dataDir: TEST_DATA_DIR });
    assert.equal(await check(trial({ seed: 1, sha256: real.sha256 })), null);
  });

  it('refuses a trial when its cached set of that seed differs, naming both hashes', async () => {
    assert.notEqual(otherSha, real.sha256);
    const check = createDataCheck({ dataDir: join(dir, 'other') });
    const refusal = await check(trial({ seed: 1, sha256: real.sha256 }));
    assert.equal(
      refusal,
      `data set mismatch: the trial expects sha256 ${real.sha256} for seed 1, this worker has ${otherSha}`,
    );
  });

  it('refuses a seed outside --data-seeds before building anything; allows the listed ones', async () => {
    const empty = join(dir, 'empty');
    const check = createDataCheck({ dataDir: empty });
    assert.equal(
      await check(trial({ seed: 7, sha256: 'f'.repeat(64) })),
      'data seed 7 is not allowed on this worker (--data-seeds 1)',
    );
    // A trial of a data task naming no data set trains on seed 1: allowed, nothing to compare.
    assert.equal(await check(trial(undefined)), null);
    // Tasks without a data set are not concerned.
    assert.equal(await check(trial(undefined, 'synthetic')), null);
    assert.deepEqual(await readdir(empty).catch(() => []), []);

    const two = createDataCheck({ dataDir: empty, seeds: [2, 7] });
    assert.equal(
      await two(trial({ seed: 1, sha256: real.sha256 })),
      'data seed 1 is not allowed on this worker (--data-seeds 2,7)',
    );
  });
});
