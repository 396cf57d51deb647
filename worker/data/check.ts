/**
 * The data-set check a worker runs before accepting a trial: a trial names its data set by seed and
 * sha256; the worker refuses a seed its operator did not allow (building an arbitrary seed writes a
 * 52 MB file to its cache), then builds or loads that seed's set and refuses the trial when its bytes
 * differ. A refused trial goes back to the queue for another worker.
 */
import type { TrialSpec } from '../../shared/protocol/index.js';
import { loadDataset } from './dataset.js';
import { silentLogger } from '../../shared/log/index.js';
import { MNIST_TASK } from '../../shared/task-names.js';

export type DataCheck = (spec: TrialSpec) => Promise<string | null>;

/** Data seeds a worker builds when its operator says nothing (`hpo worker --data-seeds`). */
export const DEFAULT_DATA_SEEDS: readonly number[] = [1];

/** Tasks that train on the two-digit data set (their trials name a data seed, default 1). */
const DATA_TASKS = new Set([MNIST_TASK]);

export interface DataCheckOptions {
  /** Data set cache folder (default: $HPO_DATA_DIR or ~/.cache/hpo/data). */
  dataDir?: string;
  /** Data seeds this worker may build or load (default DEFAULT_DATA_SEEDS). */
  seeds?: readonly number[];
}

/** A check that loads each allowed seed's set once and compares hashes. */
export function createDataCheck(options: DataCheckOptions | string = {}): DataCheck {
  const { dataDir, seeds = DEFAULT_DATA_SEEDS } =
    typeof options === 'string' ? { dataDir: options } : options;
  const allowed = new Set(seeds);
  const hashes = new Map<number, Promise<string>>();
  return async (spec) => {
    if (!spec.data && !DATA_TASKS.has(spec.task)) return null;
    const seed = spec.data?.seed ?? 1;
    if (!allowed.has(seed)) {
      return `data seed ${seed} is not allowed on this worker (--data-seeds ${[...allowed].join(',')})`;
    }
    if (!spec.data?.sha256) return null;
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
