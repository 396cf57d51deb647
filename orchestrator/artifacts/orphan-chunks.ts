/**
 * Chunks in the models bucket that no description names (orphans): an upload that died before its
 * description, the chunks of an object uploaded again, or a client writing chunks and nothing else.
 * They are invisible in listings and count against the bucket's byte limit, so the orchestrator purges
 * them: every chunk subject that the newest description of no object names and whose newest chunk is
 * older than a grace period (so an upload still under way is never cut).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { bucketStream, isChunkId } from '../../shared/protocol/model-transfer.js';

/** How old an orphan's newest chunk must be before it is purged by default (an upload's longest run). */
export const DEFAULT_ORPHAN_GRACE_MS = 10 * 60 * 1000;

export interface OrphanSweep {
  /** Chunk subjects purged. */
  purged: number;
  /** Orphan chunk subjects left for a later sweep (too young). */
  young: number;
}

/** Subjects of the stream under `filter` (the server's per-subject message counts). */
async function subjectsOf(jsm: JetStreamManager, stream: string, filter: string): Promise<string[]> {
  const info = await jsm.streams.info(stream, { subjects_filter: filter });
  return Object.keys(info.state.subjects ?? {});
}

/** The chunk ids the newest description of each object names. */
async function describedChunks(jsm: JetStreamManager, bucket: string): Promise<Set<string>> {
  const stream = bucketStream(bucket);
  const ids = new Set<string>();
  for (const subject of await subjectsOf(jsm, stream, `$O.${bucket}.M.>`)) {
    const m = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
    if (!m) continue;
    try {
      const nuid = (JSON.parse(m.string()) as { nuid?: unknown }).nuid;
      if (isChunkId(nuid)) ids.add(nuid);
    } catch {
      // not a description: names nothing
    }
  }
  return ids;
}

/** Purges the bucket's orphan chunks older than `graceMs`. */
export async function sweepOrphanChunks(
  jsm: JetStreamManager,
  bucket: string,
  graceMs: number = DEFAULT_ORPHAN_GRACE_MS,
  now: number = Date.now(),
): Promise<OrphanSweep> {
  const stream = bucketStream(bucket);
  const chunkPrefix = `$O.${bucket}.C.`;
  const chunkSubjects = await subjectsOf(jsm, stream, `${chunkPrefix}>`);
  const sweep: OrphanSweep = { purged: 0, young: 0 };
  if (chunkSubjects.length === 0) return sweep;
  const described = await describedChunks(jsm, bucket);
  for (const subject of chunkSubjects) {
    if (described.has(subject.slice(chunkPrefix.length))) continue;
    const last = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
    if (last && now - last.time.getTime() < graceMs) {
      sweep.young++;
      continue;
    }
    await jsm.streams.purge(stream, { filter: subject });
    sweep.purged++;
  }
  return sweep;
}
