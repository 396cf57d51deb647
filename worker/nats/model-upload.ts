/**
 * Sends a trial's saved model to the orchestrator through the JetStream object store, before the result
 * is published: each file of the model folder becomes the object `<experiment_id>/<trial_id>/<file>` of
 * the bucket `<prefix>_models` (the orchestrator creates it), written in the object store's own format
 * (chunks on `$O.<bucket>.C.<nuid>`, then the description on `$O.<bucket>.M.<name>`), so a worker needs
 * only to publish into the bucket: no right to read, list, purge or delete anything (docs/NATS.md).
 * A model over the size limit, or an upload that fails, is reported in the result (`model.not_sent`).
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { nuid } from '@nats-io/transport-node';
import type { ResultEvent, TrialSpec } from '../../shared/protocol/index.js';
import {
  DEFAULT_MAX_MODEL_BYTES,
  MODEL_FILES,
  type ModelFileDigest,
  modelObjectName,
  modelsBucket,
  objectChunkSubject,
  objectMetaSubject,
  paddedBase64url,
} from '../../shared/protocol/model-transfer.js';
import { errorText } from '../../shared/nats/connection.js';
import type { WorkerState } from './worker-state.js';

const CHUNK_BYTES = 128 * 1024;

/**
 * Publishes a chunk or description, retried a few times (same message id: stored once). Never with a
 * rollup header: the bucket refuses rollups (a worker's `Nats-Rollup: all` would empty it), so an older
 * description of the same name stays until the orchestrator deletes the object.
 */
async function publish(state: WorkerState, subject: string, data: Uint8Array, msgID: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await state.js.publish(subject, data, { msgID, timeout: 10_000 });
      return;
    } catch (err) {
      // No bucket (or no right to it): retrying will not help.
      if (i >= 3 || /no responders|permission/i.test(errorText(err))) throw err;
      await new Promise((r) => setTimeout(r, 500 * 2 ** i));
    }
  }
}

/** Uploads the model file `name` (one of MODEL_FILES) of `folder` as one object; returns its digest. */
async function uploadFile(
  state: WorkerState,
  bucket: string,
  spec: TrialSpec,
  folder: string,
  name: string,
): Promise<ModelFileDigest> {
  const object = modelObjectName(spec.experiment_id, spec.trial_id, name);
  const id = nuid.next();
  const maxPayload = state.nc.info?.max_payload ?? 1024 * 1024;
  const chunkBytes = Math.min(CHUNK_BYTES, maxPayload);
  const sha = createHash('sha256');
  const fh = await open(join(folder, name), 'r');
  let size = 0;
  let chunks = 0;
  try {
    const buf = Buffer.alloc(chunkBytes);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, null);
      if (bytesRead === 0) break;
      const chunk = Uint8Array.prototype.slice.call(buf, 0, bytesRead);
      sha.update(chunk);
      await publish(state, objectChunkSubject(bucket, id), chunk, `${id}.${chunks}`);
      size += bytesRead;
      chunks++;
    }
  } finally {
    await fh.close();
  }
  const digest = sha.digest();
  const info = {
    name: object,
    description: '',
    options: { max_chunk_size: chunkBytes },
    bucket,
    nuid: id,
    size,
    chunks,
    mtime: new Date().toISOString(),
    digest: `SHA-256=${paddedBase64url(digest)}`,
    deleted: false,
  };
  await publish(state, objectMetaSubject(bucket, object), Buffer.from(JSON.stringify(info)), `${id}.meta`);
  return { name, size, sha256: digest.toString('hex') };
}

/**
 * The result with its model sent: `model.files` lists what was uploaded, or `model.not_sent` says why
 * nothing was (over `maxModelBytes`, a file missing, the bucket unreachable). Never throws.
 */
export async function sendModel(
  state: WorkerState,
  spec: TrialSpec,
  result: ResultEvent,
): Promise<ResultEvent> {
  const model = result.model;
  if (!model || spec.save_model !== true) return result;
  const maxBytes = state.options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
  const fields = { experiment: spec.experiment, trial: spec.trial_id, attempt: spec.attempt };
  let notSent: string;
  try {
    const sizes = await Promise.all(MODEL_FILES.map(async (f) => (await stat(join(model.path, f))).size));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total > maxBytes) {
      notSent = `model of ${total} bytes is over this worker's limit of ${maxBytes} bytes (--max-model-mb): not sent`;
    } else {
      const bucket = modelsBucket(state.names.prefix);
      const files: ModelFileDigest[] = [];
      for (const f of MODEL_FILES) files.push(await uploadFile(state, bucket, spec, model.path, f));
      state.logger.debug({ ...fields, bytes: total }, 'model sent to the object store');
      return { ...result, model: { path: model.path, files } };
    }
  } catch (err) {
    notSent = `model upload failed: ${errorText(err)}`;
  }
  state.logger.warn({ ...fields, path: model.path }, notSent);
  return { ...result, model: { path: model.path, not_sent: notSent } };
}
