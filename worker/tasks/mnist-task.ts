/** `multi-digit-mnist`: trains one configuration of the report's models on the two-digit set. */
import * as tf from '@tensorflow/tfjs';
import { ensureThreadBackend } from '../backends/thread-backend.js';
import { loadDataset } from '../data/dataset.js';
import { silentLogger } from '../../shared/log/index.js';
import type { TwoDigitDataset } from '../data/types.js';
import { DataError } from '../../shared/errors.js';
import { resolveParams } from '../../shared/task-params.js';
import { train, type TrainResult } from '../training/trainer.js';
import { saveModelFiles } from '../model-files/save.js';
import { modelFolder } from '../../shared/protocol/model-metadata.js';
import { INPUT_SHAPE, HEAD_CLASSES } from '../models/architecture.js';
import type { TrialSpec } from '../../shared/protocol/index.js';
import { architectureNames } from '../models/registry.js';
import { OPTIMIZER_NAMES } from '../training/config.js';
import { MNIST_TASK } from '../../shared/task-names.js';
import { mnistTaskParams, mnistTrainConfig } from './mnist-params.js';
import type { Task } from './task.js';

/** Data sets of this thread by (dir, seed); trials of one experiment share one. */
const datasets = new Map<string, Promise<TwoDigitDataset>>();

function dataset(seed: number, dataDir: string | undefined): Promise<TwoDigitDataset> {
  const key = `${dataDir ?? ''}\0${seed}`;
  let ds = datasets.get(key);
  if (!ds) {
    ds = loadDataset({ seed, dataDir, logger: silentLogger() });
    ds.catch(() => datasets.delete(key));
    datasets.set(key, ds);
  }
  return ds;
}

/** The task's parameter rules; the trainer's optimizer names make `mnistTrainConfig`'s cast hold. */
const MNIST_PARAMS = mnistTaskParams({ architectures: architectureNames(), optimizers: OPTIMIZER_NAMES });

export const mnistTask: Task = {
  name: MNIST_TASK,
  description:
    'train one model on two-digit MNIST; params arch, optimizer, learning_rate, batch_size, epochs, train_size, val_size',
  params: MNIST_PARAMS,
  async run(spec, ctx) {
    const config = mnistTrainConfig(resolveParams(spec.params, MNIST_PARAMS), spec.seed);
    // Under auto, the architecture may move the trial to its faster backend (auto-preference.ts).
    const backend = await ensureThreadBackend(ctx.backend, { family: config.arch });
    const dataSeed = spec.data?.seed ?? 1;
    const ds = await dataset(dataSeed, ctx.dataDir);
    if (spec.data?.sha256 && spec.data.sha256 !== ds.sha256) {
      throw new DataError(
        `data set mismatch: the trial expects sha256 ${spec.data.sha256}, this worker has ${ds.sha256} for seed ${dataSeed}`,
        ds.file,
      );
    }
    // The folder is derived from the ids under this worker's own root: a message never names a path.
    let saveDir: string | undefined;
    if (spec.save_model === true) {
      if (ctx.modelsDir === undefined)
        throw new Error('this worker has no models folder: the trial asks to save its model');
      saveDir = modelFolder(ctx.modelsDir, spec.experiment_id, spec.trial_id);
    }
    const result = await train(config, ds, {
      signal: ctx.signal,
      onEpoch: (m, info) => ctx.reportEpoch(m.epoch, { ...m }, { images: info.images, backend }),
      ...(saveDir === undefined
        ? {}
        : { onTrained: (model, r) => saveTrialModel(model, r, spec, ds.sha256, saveDir) }),
    });
    const last = result.epochs[result.epochs.length - 1];
    return {
      metrics: { ...last, ...result.test, params: result.params, seconds: result.seconds },
      epochs: result.epochs.length,
      stopped: result.stopped_early,
      backend,
      ...(saveDir === undefined ? {} : { model: { path: saveDir } }),
    };
  },
};

function saveTrialModel(
  model: tf.LayersModel,
  r: TrainResult,
  spec: TrialSpec,
  sha256: string,
  dir: string,
): Promise<void> {
  const last = r.epochs[r.epochs.length - 1];
  const validation = Object.fromEntries(
    Object.entries(last ?? {}).filter(([k]) => k.startsWith('val_') || k === 'epoch'),
  );
  return saveModelFiles(model, dir, {
    format: 'hpo-model',
    version: 1,
    arch: r.config.arch,
    // The mnist task's params are scalars (its parameter rules accept nothing else).
    params: spec.params as Record<string, string | number | boolean>,
    input_shape: [...INPUT_SHAPE],
    heads: ['top', 'bottom'],
    classes: HEAD_CLASSES,
    data: { seed: spec.data?.seed ?? 1, sha256 },
    experiment: spec.experiment,
    trial_id: spec.trial_id,
    attempt: spec.attempt,
    seed: spec.seed,
    backend: r.backend,
    tfjs_version: tf.version.tfjs,
    validation,
    test: { ...r.test },
    saved_at: new Date().toISOString(),
  });
}
