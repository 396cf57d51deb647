/** What a run's report needs to say about where it ran: host, versions, data set, backend choice. */
import { createRequire } from 'node:module';
import os from 'node:os';
import type { RunInfo } from '../store/types.js';

const require = createRequire(import.meta.url);

function packageVersion(id: string): string {
  try {
    return (require(id) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** hpo's own version (package.json at the repository root, two or three folders up). */
export function hpoVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(rel) as { name?: string; version?: string };
      if (pkg.name === 'hpo' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}

export interface RunInfoOptions {
  backendChoice: string;
  workers: string;
  data?: { seed: number; sha256: string };
  now?: () => number;
}

export function collectRunInfo(options: RunInfoOptions): RunInfo {
  const cpus = os.cpus();
  return {
    started_at: (options.now ?? Date.now)(),
    hpo_version: hpoVersion(),
    node_version: process.version,
    tfjs_version: packageVersion('@tensorflow/tfjs/package.json'),
    backend_choice: options.backendChoice,
    workers: options.workers,
    host: {
      cpu_model: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      memory_bytes: os.totalmem(),
      os: `${os.type()} ${os.release()}`,
      arch: os.arch(),
    },
    ...(options.data ? { data: options.data } : {}),
    load_average: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
