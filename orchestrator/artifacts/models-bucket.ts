/**
 * The models bucket (JetStream object store `<prefix>_models`, stream `OBJ_<prefix>_models`) as the
 * orchestrator keeps it: created here with the object store's own layout (and `--replicas` copies) but **no rollups** (a worker's
 * description with `Nats-Rollup: all` would purge every object) and a byte limit (new uploads are
 * refused past it); an existing bucket is brought to those settings. Objects are deleted without a
 * rollup too: a delete marker, then a purge of the upload's chunks and of the older descriptions.
 * See docs/NATS.md "Saved models".
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
  StorageType,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { bucketStream, objectChunkSubject, objectMetaSubject } from '../../shared/protocol/model-transfer.js';
import { describedChunkIds } from './object-history.js';
import { isPlacementError, replicasError } from '../../shared/nats/replicas.js';

/** How long an object no one fetched stays in the bucket (a crashed orchestrator's, a re-run's leftovers). */
export const MODELS_BUCKET_TTL_MS = 7 * 24 * 3600 * 1000;
/** Bytes the bucket holds at most by default (2 GiB: eight models of the largest default size). */
export const DEFAULT_MODELS_BUCKET_BYTES = 2 * 1024 ** 3;

/**
 * Creates the bucket's stream if missing (rollups refused, `maxBytes`, discard new), or brings an
 * existing one to that (an older hpo created it allowing rollups, without a limit).
 */
export async function ensureModelsBucket(
  jsm: JetStreamManager,
  bucket: string,
  maxBytes: number = DEFAULT_MODELS_BUCKET_BYTES,
  replicas = 1,
): Promise<void> {
  const name = bucketStream(bucket);
  const wanted: Partial<StreamConfig> = {
    allow_rollup_hdrs: false,
    deny_delete: false,
    max_bytes: maxBytes,
    discard: DiscardPolicy.New,
    num_replicas: replicas,
  };
  let config: StreamConfig;
  try {
    config = (await jsm.streams.info(name)).config;
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    try {
      await jsm.streams.add({
        ...wanted,
        name,
        subjects: [`$O.${bucket}.C.>`, `$O.${bucket}.M.>`],
        max_age: nanos(MODELS_BUCKET_TTL_MS),
        storage: StorageType.File,
        allow_direct: true,
      });
      return;
    } catch (addErr) {
      if (isPlacementError(addErr)) throw replicasError(addErr, name, replicas);
      // Another orchestrator created it meanwhile: check its settings below.
      config = (await jsm.streams.info(name).catch(() => Promise.reject(addErr))).config;
    }
  }
  if (
    config.allow_rollup_hdrs ||
    config.max_bytes !== maxBytes ||
    config.discard !== DiscardPolicy.New ||
    (config.num_replicas || 1) !== replicas
  )
    await jsm.streams.update(name, { ...config, ...wanted }).catch((err: unknown) => {
      throw isPlacementError(err) ? replicasError(err, name, replicas) : err;
    });
}

/** The newest description of an object (its raw JSON), or undefined. */
export async function lastDescription(
  jsm: JetStreamManager,
  bucket: string,
  object: string,
): Promise<Record<string, unknown> | undefined> {
  const m = await jsm.streams
    .getMessage(bucketStream(bucket), { last_by_subj: objectMetaSubject(bucket, object) })
    .catch(() => null);
  if (!m) return undefined;
  try {
    const info: unknown = JSON.parse(m.string());
    return typeof info === 'object' && info !== null ? (info as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Deletes an object without a rollup: a delete marker (so listings show it gone), then purges the
 * chunks its descriptions name (only plain chunk ids: never a wildcard; another client's later upload
 * under the name included) and every older description.
 */
export async function deleteObject(
  js: JetStreamClient,
  jsm: JetStreamManager,
  bucket: string,
  object: string,
): Promise<void> {
  const info = await lastDescription(jsm, bucket, object);
  if (!info) return;
  const meta = objectMetaSubject(bucket, object);
  const stream = bucketStream(bucket);
  if (info.deleted !== true) {
    const marker = { ...info, name: object, deleted: true, size: 0, chunks: 0, digest: '' };
    await js.publish(meta, JSON.stringify(marker));
  }
  for (const nuid of await describedChunkIds(jsm, bucket, object))
    await jsm.streams.purge(stream, { filter: objectChunkSubject(bucket, nuid) });
  await jsm.streams.purge(stream, { filter: meta, keep: 1 });
}
