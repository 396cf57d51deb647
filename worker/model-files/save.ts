/**
 * Writes a tfjs layers model in the layout of tfjs-node's `file://` handler: model.json (topology and a
 * weights manifest naming weights.bin) plus weights.bin, and hpo-model.json beside them. Pure
 * @tensorflow/tfjs has no file handler in Node, so the artifacts are taken with `tf.io.withSaveHandler`.
 */
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  MODEL_JSON_FILE,
  MODEL_METADATA_FILE,
  type ModelMetadata,
  WEIGHTS_FILE,
} from '../../shared/protocol/model-metadata.js';

export async function saveModelFiles(
  model: tf.LayersModel,
  dir: string,
  metadata: ModelMetadata,
): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.modelTopology || !artifacts.weightSpecs || artifacts.weightData === undefined) {
    throw new Error('tfjs returned no topology or weights for the model');
  }
  const weights = Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs }],
  };
  // Only an earlier save of this model is ever replaced: a folder (or file, or link) that is not an hpo
  // model stays untouched and the save fails.
  const existing = await lstat(dir).catch(() => undefined);
  if (existing) {
    const isModel =
      existing.isDirectory() &&
      (await lstat(join(dir, MODEL_METADATA_FILE)).catch(() => undefined))?.isFile();
    if (!isModel) throw new Error(`will not replace ${dir}: it exists and is not a saved hpo model`);
  }
  // Written into a temporary sibling folder and renamed, so a reader never sees half a model.
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    await writeFile(join(tmp, WEIGHTS_FILE), weights);
    await writeFile(join(tmp, MODEL_JSON_FILE), JSON.stringify(modelJson));
    await writeFile(join(tmp, MODEL_METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
