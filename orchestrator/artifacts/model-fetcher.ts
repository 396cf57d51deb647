/**
 * The orchestrator's side of models saved by remote workers (NATS): downloads a trial's model files from
 * the JetStream object store (bucket `<prefix>_models`, objects `<bus id>/<trial id>/<file>`) into its
 * own models root, at the folder it derives itself (`<root>/<bus id>/<trial id>`), and deletes the
 * objects once they are not needed. Only the names of MODEL_FILES are ever asked for; each object must
 * have exactly the size and sha256 that the (token-checked) result lists, within the size limit, and the
 * files must describe an hpo model whose weights are `weights.bin` beside it. Anything else is refused
 * (ModelRefusedError) and nothing is written.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { nanos } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore, StorageType } from '@nats-io/obj';
import { HpoError } from '../../shared/errors.js';
import {
  MODEL_JSON_FILE,
  MODEL_METADATA_FILE,
  WEIGHTS_FILE,
  isModelMetadata,
  modelFolder,
} from '../../shared/protocol/model-metadata.js';
import {
  DEFAULT_MAX_MODEL_BYTES,
  MODEL_FILES,
  type ModelFileDigest,
  modelFilesProblems,
  modelObjectName,
  modelsBucket,
} from '../../shared/protocol/model-transfer.js';
import { DEFAULT_SUBJECT_PREFIX } from '../../shared/protocol/bus.js';
import { fetchFolder, removeStaleFetches } from './stale-fetches.js';

/** How long an object no one fetched stays in the bucket (a crashed orchestrator's, a re-run's leftovers). */
export const MODELS_BUCKET_TTL_MS = 7 * 24 * 3600 * 1000;

/** A model a worker sent that the orchestrator will not take (wrong names, sizes, digests, content). */
export class ModelRefusedError extends HpoError {}

/** Where models saved elsewhere come from (the object store over NATS); see ModelKeeper. */
export interface RemoteModels {
  /** Downloads and checks a trial's files; resolves with the local folder they are now in. */
  fetch(trialId: string, files: readonly ModelFileDigest[]): Promise<string>;
  /** Deletes a trial's objects (whatever is there; nothing if none). */
  discard(trialId: string): Promise<void>;
}

export interface ModelFetcherOptions {
  /** The experiment's bus id. */
  experimentId: string;
  /** The orchestrator's models root (--models-dir, default hpo-models/ beside the database). */
  root: string;
  /** Subject prefix (default `hpo`): the bucket is `<prefix>_models`. */
  prefix?: string;
  /** Largest model accepted, all files together (default DEFAULT_MAX_MODEL_BYTES). */
  maxBytes?: number;
}

export class ModelFetcher implements RemoteModels {
  private readonly root: string;
  private readonly maxBytes: number;

  private constructor(
    private readonly os: ObjectStore,
    private readonly options: ModelFetcherOptions,
  ) {
    this.root = resolve(options.root);
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  }

  /**
   * Creates the bucket if it does not exist yet (objects expire after MODELS_BUCKET_TTL_MS) and opens it.
   * The experiment's fetch folders left by a process that died during a fetch are removed first.
   */
  static async open(nc: NatsConnection, options: ModelFetcherOptions): Promise<ModelFetcher> {
    const os = await new Objm(nc).create(modelsBucket(options.prefix ?? DEFAULT_SUBJECT_PREFIX), {
      ttl: nanos(MODELS_BUCKET_TTL_MS),
      storage: StorageType.File,
    });
    const fetcher = new ModelFetcher(os, options);
    await removeStaleFetches(join(fetcher.root, options.experimentId));
    return fetcher;
  }

  async fetch(trialId: string, files: readonly ModelFileDigest[]): Promise<string> {
    const problems = modelFilesProblems(files, this.maxBytes);
    if (problems.length > 0)
      throw new ModelRefusedError(`model of trial ${trialId} refused: ${problems.join('; ')}`);
    const dest = modelFolder(this.root, this.options.experimentId, trialId);
    const existing = await lstat(dest).catch(() => undefined);
    if (existing) {
      const isModel =
        existing.isDirectory() &&
        (await lstat(join(dest, MODEL_METADATA_FILE)).catch(() => undefined))?.isFile();
      if (!isModel)
        throw new ModelRefusedError(`will not replace ${dest}: it exists and is not a saved hpo model`);
    }
    const tmp = fetchFolder(dest);
    await mkdir(tmp, { recursive: true });
    try {
      for (const f of files) await this.download(trialId, f, join(tmp, f.name));
      await checkModelFiles(tmp, trialId);
      await rm(dest, { recursive: true, force: true });
      await rename(tmp, dest);
      return dest;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  async discard(trialId: string): Promise<void> {
    for (const f of MODEL_FILES) {
      await this.os.delete(modelObjectName(this.options.experimentId, trialId, f)).catch(() => undefined);
    }
  }

  /** One object into `file`: its size and sha256 must be the expected ones, checked while it streams. */
  private async download(trialId: string, expected: ModelFileDigest, file: string): Promise<void> {
    const name = modelObjectName(this.options.experimentId, trialId, expected.name);
    const refuse = (why: string) => new ModelRefusedError(`model of trial ${trialId}: object ${name} ${why}`);
    const info = await this.os.info(name);
    if (!info || info.deleted) throw refuse('is not in the bucket');
    if (info.options?.link) throw refuse('is a link');
    if (info.size !== expected.size) throw refuse(`is ${info.size} bytes, the result says ${expected.size}`);
    const got = await this.os.get(name);
    if (!got) throw refuse('is not in the bucket');
    const reader = got.data.getReader();
    const sha = createHash('sha256');
    const fh = await open(file, 'wx');
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > expected.size) {
          await reader.cancel().catch(() => undefined);
          throw refuse(`holds more than the ${expected.size} bytes the result says`);
        }
        sha.update(value);
        await fh.write(value);
      }
    } finally {
      await fh.close();
    }
    const clientError = await got.error;
    if (clientError) throw refuse(`is corrupt: ${clientError.message}`);
    if (size !== expected.size) throw refuse(`holds ${size} bytes, the result says ${expected.size}`);
    const digest = sha.digest('hex');
    if (digest !== expected.sha256) throw refuse(`has sha256 ${digest}, the result says ${expected.sha256}`);
  }
}

/** The downloaded files describe an hpo model whose weights are the weights.bin beside it (nothing else). */
async function checkModelFiles(dir: string, trialId: string): Promise<void> {
  const bad = (why: string) => new ModelRefusedError(`model of trial ${trialId} refused: ${why}`);
  let meta: unknown;
  let model: { weightsManifest?: { paths?: unknown }[] };
  try {
    meta = JSON.parse(await readFile(join(dir, MODEL_METADATA_FILE), 'utf8'));
    model = JSON.parse(await readFile(join(dir, MODEL_JSON_FILE), 'utf8'));
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  if (!isModelMetadata(meta)) throw bad(`${MODEL_METADATA_FILE} is not an hpo model description`);
  const manifest = model?.weightsManifest;
  const paths = Array.isArray(manifest)
    ? manifest.flatMap((g) => (Array.isArray(g?.paths) ? g.paths : [null]))
    : [];
  if (paths.length === 0 || !paths.every((p) => p === `./${WEIGHTS_FILE}` || p === WEIGHTS_FILE)) {
    throw bad(`${MODEL_JSON_FILE} must name only ${WEIGHTS_FILE} as its weights`);
  }
}
