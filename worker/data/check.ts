/**
 * The data-set check a worker runs before accepting a trial: a trial names its data set by seed and
 * sha256; the worker builds or loads that seed's set and refuses the trial when its bytes differ.
 */
import type { TrialSpec } from '../../shared/protocol/index.js';
import { loadDataset } from './dataset.js';
import { silentLogger } from '../../shared/log/index.js';

export type DataCheck = (spec: TrialSpec) => Promise<string | null>;

/** A check that loads each seed's set once (from `dataDir`, default cache) and compares hashes. */
export function createDataCheck(dataDir?: string): DataCheck {
  const hashes = new Map<number, Promise<string>>();
  return async (spec) => {
    if (!spec.data?.sha256) return null;
    const seed = spec.data.seed;
    let hash = hashes.get(seed);
    if (!hash) {
      hash = loadDataset({ seed, dataDir, logger: silentLogger() }).then((ds) => ds.sha256);
      hashes.set(seed, hash);
    }
    let mine: string;
    try {
      mine = await hash;
    } catch (err) {
      hashes.delete(seed);
      return `cannot build data set seed ${seed}: ${err instanceof Error ? err.message : String(err)}`;
    }
    return mine === spec.data.sha256
      ? null
      : `data set mismatch: the trial expects sha256 ${spec.data.sha256} for seed ${seed}, this worker has ${mine}`;
  };
}
