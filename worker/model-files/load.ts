/** Reads a folder written by saveModelFiles (or tfjs-node's file:// handler, with hpo-model.json beside). */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError, UsageError } from '../../shared/errors.js';
import {
  MODEL_JSON_FILE,
  MODEL_METADATA_FILE,
  type ModelMetadata,
  isModelMetadata,
} from '../../shared/protocol/model-metadata.js';

interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read ${file}: ${(err as Error).message}`, file, { cause: err });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new DataError(`${file} is not valid JSON: ${(err as Error).message}`, file, { cause: err });
  }
}

/** The metadata of a saved model folder; a UsageError when DIR is not one. */
export async function readModelMetadata(dir: string): Promise<ModelMetadata> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new UsageError(`${dir}: no such model folder (expected hpo export's output)`);
  const meta = await readJson<ModelMetadata>(join(dir, MODEL_METADATA_FILE));
  if (!isModelMetadata(meta)) {
    throw new DataError(
      `${join(dir, MODEL_METADATA_FILE)}: not an hpo model description (format/version)`,
      dir,
    );
  }
  return meta;
}

export async function loadModelFiles(
  dir: string,
): Promise<{ model: tf.LayersModel; metadata: ModelMetadata }> {
  const metadata = await readModelMetadata(dir);
  const json = await readJson<ModelJson>(join(dir, MODEL_JSON_FILE));
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const file = join(dir, p);
      buffers.push(
        await readFile(file).catch((err: Error) => {
          throw new DataError(`cannot read ${file}: ${err.message}`, file, { cause: err });
        }),
      );
    }
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }),
  );
  return { model, metadata };
}
