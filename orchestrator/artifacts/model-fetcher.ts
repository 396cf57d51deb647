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
import type { NatsConnection } from '@nats-io/transport-node';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { HpoError, UsageError } from '../../shared/errors.js';
import { retryTransient } from '../../shared/nats/retry.js';
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
import { childLogger } from '../../shared/log/index.js';
import { deleteObject, ensureModelsBucket } from './models-bucket.js';
import { DEFAULT_ORPHAN_GRACE_MS, sweepOrphanChunks } from './orphan-chunks.js';
import { matchingUploads, uploadChunks } from './object-history.js';
import { fetchFolder, removeStaleFetches } from './stale-fetches.js';

/** A model a worker sent that the orchestrator will not take (wrong names, sizes, digests, content). */
export class ModelRefusedError extends HpoError {}

/** Where models saved elsewhere come from (the object store over NATS); see ModelKeeper. */
export interface RemoteModels {
  /** Downloads and checks a trial's files; resolves with the local folder they are now in. */
  fetch(trialId: string, files: readonly ModelFileDigest[]): Promise<string>;
  /** Deletes a trial's objects (whatever is there; nothing if none). */
  discard(trialId: string): Promise<void>;
  /** The search ends: a last sweep of orphan chunks; no more periodic ones. */
  close?(): Promise<void>;
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
  /** Bytes the whole bucket holds at most (default DEFAULT_MODELS_BUCKET_BYTES); uploads past it are refused. */
  bucketMaxBytes?: number;
  /** Copies JetStream keeps of the bucket (default 1; an existing bucket is scaled to it). */
  replicas?: number;
  /** Orphan chunks (no description names them) are purged once their newest chunk is this old. */
  orphanGraceMs?: number;
  /** How often orphans are swept while the search runs (default: the grace period); also at open and close. */
  sweepEveryMs?: number;
}

export class ModelFetcher implements RemoteModels {
  private readonly root: string;
  private readonly maxBytes: number;
  private readonly bucket: string;
  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  private readonly sweeper: NodeJS.Timeout;
  private sweeping: Promise<void> = Promise.resolve();

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    private readonly os: ObjectStore,
    private readonly options: ModelFetcherOptions,
  ) {
    this.root = resolve(options.root);
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
    this.bucket = modelsBucket(options.prefix ?? DEFAULT_SUBJECT_PREFIX);
    this.js = jetstream(nc);
    this.jsm = jsm;
    const every = options.sweepEveryMs ?? options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
    this.sweeper = setInterval(() => void this.sweep(), Math.max(1000, every)).unref();
  }

  /**
   * Creates the bucket if it does not exist yet (objects expire after MODELS_BUCKET_TTL_MS; no rollups;
   * at most `bucketMaxBytes`), or brings an existing one to those settings, opens it and sweeps orphans.
   * The experiment's fetch folders left by a process that died during a fetch are removed first.
   */
  static async open(nc: NatsConnection, options: ModelFetcherOptions): Promise<ModelFetcher> {
    const bucket = modelsBucket(options.prefix ?? DEFAULT_SUBJECT_PREFIX);
    const retry = <T>(call: () => Promise<T>) => retryTransient(call, { stopped: () => nc.isClosed() });
    const jsm = await retry(() => jetstreamManager(nc));
    await retry(() => ensureModelsBucket(jsm, bucket, options.bucketMaxBytes, options.replicas)).catch(
      (err: unknown) => {
        if (err instanceof UsageError) throw err; // names --replicas already
        const why = (err as Error).message;
        const hint = /insufficient/i.test(why)
          ? ' (lower --models-bucket-mb, or give JetStream more storage)'
          : '';
        throw new HpoError(`cannot set up the models bucket ${bucket}: ${why}${hint}`, { cause: err });
      },
    );
    const os = await retry(() => new Objm(nc).open(bucket));
    const fetcher = new ModelFetcher(nc, jsm, os, options);
    await removeStaleFetches(join(fetcher.root, options.experimentId));
    await fetcher.sweep();
    return fetcher;
  }

  /** Purges orphan chunks (one sweep at a time; a failure is logged, never thrown). */
  sweep(): Promise<void> {
    this.sweeping = this.sweeping.then(async () => {
      try {
        const { purged } = await sweepOrphanChunks(this.jsm, this.bucket, this.options.orphanGraceMs);
        if (purged > 0)
          childLogger({ component: 'models' }).info(
            { bucket: this.bucket, purged },
            'purged chunks no object description names (orphans)',
          );
      } catch (err) {
        childLogger({ component: 'models' }).warn(
          { bucket: this.bucket, error: (err as Error).message },
          'could not sweep orphan chunks',
        );
      }
    });
    return this.sweeping;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweep();
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
      const name = modelObjectName(this.options.experimentId, trialId, f);
      await deleteObject(this.js, this.jsm, this.bucket, name).catch(() => undefined);
    }
  }

  /**
   * One object into `file`: its size and sha256 must be the expected ones, checked while it streams.
   * The newest description first (the object store client); if that is refused, an earlier upload of
   * the name that the result describes (a later description, another client's, does not hide it).
   */
  private async download(trialId: string, expected: ModelFileDigest, file: string): Promise<void> {
    const name = modelObjectName(this.options.experimentId, trialId, expected.name);
    const refuse = (why: string) => new ModelRefusedError(`model of trial ${trialId}: object ${name} ${why}`);
    try {
      await this.downloadNewest(name, expected, file, refuse);
    } catch (err) {
      if (!(err instanceof ModelRefusedError)) throw err;
      for (const upload of await matchingUploads(this.jsm, this.bucket, name, expected)) {
        await rm(file, { force: true });
        try {
          await writeVerified(uploadChunks(this.jsm, this.bucket, upload), file, expected, refuse);
          return;
        } catch (again) {
          if (!(again instanceof ModelRefusedError)) throw again;
        }
      }
      throw err;
    }
  }

  private async downloadNewest(
    name: string,
    expected: ModelFileDigest,
    file: string,
    refuse: (why: string) => ModelRefusedError,
  ): Promise<void> {
    const info = await this.os.info(name);
    if (!info || info.deleted) throw refuse('is not in the bucket');
    if (info.options?.link) throw refuse('is a link');
    if (info.size !== expected.size) throw refuse(`is ${info.size} bytes, the result says ${expected.size}`);
    const got = await this.os.get(name);
    if (!got) throw refuse('is not in the bucket');
    await writeVerified(streamed(got.data), file, expected, refuse, async () => {
      const clientError = await got.error;
      if (clientError) throw refuse(`is corrupt: ${clientError.message}`);
    });
  }
}

/** A web stream as an async iterable (cancelled when the reader stops early). */
async function* streamed(data: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = data.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
  }
}

/**
 * Writes `source` into a new `file`, refusing more bytes than expected, then (after `afterRead`) a size
 * or sha256 other than the expected ones.
 */
async function writeVerified(
  source: AsyncIterable<Uint8Array>,
  file: string,
  expected: ModelFileDigest,
  refuse: (why: string) => ModelRefusedError,
  afterRead?: () => Promise<void>,
): Promise<void> {
  const sha = createHash('sha256');
  const fh = await open(file, 'wx');
  let size = 0;
  try {
    for await (const value of source) {
      size += value.length;
      if (size > expected.size) throw refuse(`holds more than the ${expected.size} bytes the result says`);
      sha.update(value);
      await fh.write(value);
    }
  } finally {
    await fh.close();
  }
  await afterRead?.();
  if (size !== expected.size) throw refuse(`holds ${size} bytes, the result says ${expected.size}`);
  const digest = sha.digest('hex');
  if (digest !== expected.sha256) throw refuse(`has sha256 ${digest}, the result says ${expected.sha256}`);
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
