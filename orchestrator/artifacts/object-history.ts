/**
 * Earlier descriptions of an object in the models bucket. The bucket refuses rollups, so a later
 * description of a name (another worker's overwrite, or its delete marker) hides an earlier one from
 * the object store client without removing it: the orchestrator looks for the descriptions whose size
 * and digest are those the trial's token-checked result lists, and reads that upload's chunks itself
 * (each checked again by its sha256 while it is written). So a worker can add objects, but cannot hide
 * another trial's upload from the orchestrator.
 */
import type { JetStreamManager, MsgRequest, StoredMsg } from '@nats-io/jetstream';
import type { ModelFileDigest } from '../../shared/protocol/model-transfer.js';
import {
  bucketStream,
  isChunkId,
  objectChunkSubject,
  objectMetaSubject,
  paddedBase64url,
} from '../../shared/protocol/model-transfer.js';

/** Descriptions of one name read at most (the earliest first), and matching ones tried at most. */
const MAX_DESCRIPTIONS = 256;
const MAX_CANDIDATES = 4;

/** An upload a description names. */
export interface DescribedUpload {
  nuid: string;
  chunks: number;
}

/** The first message on `subject` at or after `seq` (nats-server 2.9 `next_by_subj`), or null. */
function nextOn(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  seq: number,
): Promise<StoredMsg | null> {
  const query = { seq, next_by_subj: subject } as unknown as MsgRequest;
  return jsm.streams.getMessage(stream, query).catch(() => null);
}

function describes(d: Record<string, unknown>, size: number, digest: string): DescribedUpload | undefined {
  const link = (d.options as Record<string, unknown> | undefined)?.link;
  const chunks = d.chunks;
  if (d.deleted === true || link || d.size !== size || d.digest !== digest) return undefined;
  if (!isChunkId(d.nuid) || typeof chunks !== 'number' || !Number.isSafeInteger(chunks) || chunks < 0)
    return undefined;
  return { nuid: d.nuid, chunks };
}

/** The descriptions of `object` that parse, the earliest first (at most MAX_DESCRIPTIONS read). */
async function* descriptionsOf(
  jsm: JetStreamManager,
  bucket: string,
  object: string,
): AsyncGenerator<Record<string, unknown>> {
  const stream = bucketStream(bucket);
  const subject = objectMetaSubject(bucket, object);
  let seq = 1;
  for (let i = 0; i < MAX_DESCRIPTIONS; i++) {
    const m = await nextOn(jsm, stream, subject, seq);
    if (!m) return;
    seq = m.seq + 1;
    try {
      const info: unknown = JSON.parse(m.string());
      if (typeof info === 'object' && info !== null) yield info as Record<string, unknown>;
    } catch {
      // not a description
    }
  }
}

/** Uploads of `object` whose description has the expected size and sha256, newest first (a few). */
export async function matchingUploads(
  jsm: JetStreamManager,
  bucket: string,
  object: string,
  expected: ModelFileDigest,
): Promise<DescribedUpload[]> {
  const digest = `SHA-256=${paddedBase64url(Buffer.from(expected.sha256, 'hex'))}`;
  const found: DescribedUpload[] = [];
  for await (const info of descriptionsOf(jsm, bucket, object)) {
    const upload = describes(info, expected.size, digest);
    if (upload && !found.some((u) => u.nuid === upload.nuid)) found.push(upload);
  }
  return found.reverse().slice(0, MAX_CANDIDATES);
}

/** Every chunk id a description of `object` names (to purge them with the object). */
export async function describedChunkIds(
  jsm: JetStreamManager,
  bucket: string,
  object: string,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const info of descriptionsOf(jsm, bucket, object)) if (isChunkId(info.nuid)) ids.add(info.nuid);
  return ids;
}

/** The chunks of an upload, in order (stops early if fewer are stored than described). */
export async function* uploadChunks(
  jsm: JetStreamManager,
  bucket: string,
  upload: DescribedUpload,
): AsyncGenerator<Uint8Array> {
  const stream = bucketStream(bucket);
  const subject = objectChunkSubject(bucket, upload.nuid);
  let seq = 1;
  for (let i = 0; i < upload.chunks; i++) {
    const m = await nextOn(jsm, stream, subject, seq);
    if (!m) return;
    seq = m.seq + 1;
    yield m.data;
  }
}
