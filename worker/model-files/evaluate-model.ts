/** Test accuracy of a saved model on the test split regenerated from its recorded data seed. */
import { loadDataset } from '../data/dataset.js';
import { silentLogger } from '../../shared/log/index.js';
import { DataError } from '../../shared/errors.js';
import { disposeModel } from '../models/dispose.js';
import { evaluate } from '../training/evaluate.js';
import type { TestMetrics } from '../training/metrics.js';
import { loadModelFiles } from './load.js';
import type { ModelMetadata } from '../../shared/protocol/model-metadata.js';

/** The test metrics (test_acc: the mean of the two heads, as the search reports it) of a saved model. */
export interface ModelEvaluation extends TestMetrics {
  dir: string;
  metadata: ModelMetadata;
  images: number;
}

export async function evaluateModelDir(
  dir: string,
  options: { dataDir?: string } = {},
): Promise<ModelEvaluation> {
  const { model, metadata } = await loadModelFiles(dir);
  try {
    const ds = await loadDataset({
      seed: metadata.data.seed,
      dataDir: options.dataDir,
      logger: silentLogger(),
    });
    if (ds.sha256 !== metadata.data.sha256) {
      throw new DataError(
        `data set mismatch: ${dir} was trained on sha256 ${metadata.data.sha256} (seed ${metadata.data.seed}), ` +
          `this machine's set for that seed is ${ds.sha256}`,
        ds.file,
      );
    }
    const m = await evaluate(model, ds.test);
    return {
      dir,
      metadata,
      test_loss: m.loss,
      test_acc_top: m.accTop,
      test_acc_bottom: m.accBottom,
      test_acc: (m.accTop + m.accBottom) / 2,
      test_acc_both: m.accBoth,
      images: ds.test.count,
    };
  } finally {
    disposeModel(model);
  }
}
