/**
 * The folders a model fetch writes into before it renames them into place, `<trial>.fetch-<pid>-<ms>`
 * beside the trial's folder, and their removal once they are stale: an orchestrator killed during a
 * fetch (kill -9) leaves one behind, whole megabytes of it, that nothing would ever read.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive as processAlive } from '../store/owner-lease.js';

const FETCH_FOLDER = /^(.+)\.fetch-(\d{1,10})-(\d{1,16})$/;

/** The folder a fetch by this process, now, writes `dest`'s files into. */
export function fetchFolder(dest: string, now = Date.now()): string {
  return `${dest}.fetch-${process.pid}-${now}`;
}

export interface StaleFetchOptions {
  /** Whether a process of this machine exists (default: a signal 0). */
  pidAlive?: (pid: number) => boolean;
  /** When this process started (ms): a folder with our pid but older was left by an earlier process. */
  startedAt?: number;
}

/**
 * Removes from `dir` (one experiment's folder under the models root) the fetch folders whose process is
 * gone (a folder of this process older than its start: an earlier process that had the same pid).
 * Nothing else is touched: only folders named like a fetch's. Returns the paths removed.
 */
export async function removeStaleFetches(dir: string, options: StaleFetchOptions = {}): Promise<string[]> {
  const alive = options.pidAlive ?? processAlive;
  const startedAt = options.startedAt ?? Date.now() - process.uptime() * 1000;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    const m = FETCH_FOLDER.exec(entry.name);
    if (!m || !entry.isDirectory()) continue;
    const pid = Number(m[2]);
    const stale = pid === process.pid ? Number(m[3]) < startedAt : !alive(pid);
    if (!stale) continue;
    await rm(join(dir, entry.name), { recursive: true, force: true });
    removed.push(join(dir, entry.name));
  }
  return removed;
}
