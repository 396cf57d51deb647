/**
 * Saved models over the bus (NATS): a worker uploads the files of a trial's model to the JetStream object
 * store (bucket `<prefix>_models`, objects `<experiment_id>/<trial_id>/<file>`) before it publishes the
 * result; the result lists each file's size and sha256, and the orchestrator downloads exactly those
 * files into its own models root, checking names, sizes and digests. See docs/NATS.md "Saved models".
 */
import type { Static } from '@sinclair/typebox';
import type { ModelFileDigestSchema } from './schema/trial-messages.js';
import { MODEL_JSON_FILE, MODEL_METADATA_FILE, WEIGHTS_FILE } from './model-metadata.js';

/** The files of a saved model, the only names that travel. */
export const MODEL_FILES: readonly string[] = [MODEL_JSON_FILE, WEIGHTS_FILE, MODEL_METADATA_FILE];

/** Largest model (all its files together) sent over the bus by default: 256 MiB. */
export const DEFAULT_MAX_MODEL_BYTES = 256 * 1024 * 1024;

/** One uploaded file of a saved model, as the result reports it (schema/trial-messages.ts). */
export type ModelFileDigest = Static<typeof ModelFileDigestSchema>;

/** The object store bucket of a subject prefix: `hpo` -> `hpo_models`. */
export function modelsBucket(prefix: string): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_models`;
}

/** The object store's stream of a bucket: `hpo_models` -> `OBJ_hpo_models`. */
export function bucketStream(bucket: string): string {
  return `OBJ_${bucket}`;
}

/** base64url with padding, as the object store writes names in subjects and digests. */
export function paddedBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Subject of an object's descriptions in a bucket: `$O.<bucket>.M.<base64url(name)>`. */
export function objectMetaSubject(bucket: string, object: string): string {
  return `$O.${bucket}.M.${paddedBase64url(Buffer.from(object, 'utf8'))}`;
}

/** Subject of one upload's chunks: `$O.<bucket>.C.<nuid>`. */
export function objectChunkSubject(bucket: string, nuid: string): string {
  return `$O.${bucket}.C.${nuid}`;
}

/** True if `nuid` can name a chunk subject: one subject token, no wildcard (a `>` would name them all). */
export function isChunkId(nuid: unknown): nuid is string {
  return typeof nuid === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(nuid);
}

/** Object name of one file of a trial's model: `<experiment_id>/<trial_id>/<file>`. */
export function modelObjectName(experimentId: string, trialId: string, file: string): string {
  return `${experimentId}/${trialId}/${file}`;
}

/**
 * Problems with a reported file list (empty: fine): exactly the files of MODEL_FILES, each once, sizes
 * whole and within `maxBytes` together, digests 64 lowercase hex.
 */
export function modelFilesProblems(files: readonly ModelFileDigest[], maxBytes: number): string[] {
  const problems: string[] = [];
  const names = files.map((f) => f.name);
  for (const f of files) {
    if (!MODEL_FILES.includes(f.name))
      problems.push(`unexpected file name ${JSON.stringify(f.name.slice(0, 80))}`);
    if (!Number.isSafeInteger(f.size) || f.size < 0) problems.push(`${f.name}: bad size ${f.size}`);
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) problems.push(`${f.name}: bad sha256`);
  }
  for (const name of MODEL_FILES) {
    const n = names.filter((x) => x === name).length;
    if (n !== 1) problems.push(n === 0 ? `${name} missing` : `${name} listed ${n} times`);
  }
  const total = files.reduce((s, f) => s + (Number.isFinite(f.size) ? f.size : 0), 0);
  if (total > maxBytes) problems.push(`${total} bytes in all, over the limit of ${maxBytes}`);
  return problems;
}
