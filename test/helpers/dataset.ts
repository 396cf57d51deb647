/**
 * One generated data set per test process, cached in a folder under the OS temp dir that survives runs
 * (its content is verified by sha256 on every load, so a stale or damaged cache is regenerated).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, type TwoDigitDataset } from '../../worker/data/index.js';

export const TEST_DATA_DIR = process.env.HPO_TEST_DATA_DIR ?? join(tmpdir(), 'hpo-test-data');

let cached: Promise<TwoDigitDataset> | undefined;

export function testDataset(): Promise<TwoDigitDataset> {
  cached ??= loadDataset({ seed: 1, dataDir: TEST_DATA_DIR });
  return cached;
}
