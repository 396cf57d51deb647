/**
 * Stress run of tfjs-node (backend `tensorflow`) in several TrialPool threads of one process (tfjs#8388):
 * `node dist/test/native/pool-stress.js [--threads 4] [--trials-per-thread 50] [--train-size 256]`.
 *
 * The trials (stress-plan.ts) go through rounds; each round is a new TrialPool with another thread count
 * (threads, half, threads, threads - 1, ...) whose idle threads end after 150 ms, and hands out its
 * trials in two waves with a pause between them, so threads are ended and started again within a round
 * (idle timeout), at its end (pool closed) and at every cancel (Piscina kills the thread). Every trial
 * must end as planned; anything else (a crash, a hang, a wrong state) is a mismatch. Prints one JSON
 * report on stdout; exit 1 on any mismatch.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ResultEvent } from '../../shared/protocol/index.js';
import { TrialPool } from '../../worker/pool/index.js';
import { NATIVE_THREAD_VARIABLES } from '../../worker/backends/index.js';
import { TEST_DATA_DIR } from '../helpers/dataset.js';
import { type PlannedTrial, plannedTrial } from './stress-plan.js';
import { type RoundStats, runRound } from './stress-round.js';

export interface StressOptions {
  threads: number;
  trialsPerThread: number;
  trainSize: number;
  dataDir: string;
}

export interface StressReport {
  threads: number;
  trials: number;
  rounds: RoundStats[];
  /** Trials per planned kind and how they ended. */
  outcomes: Record<string, Record<string, number>>;
  mismatches: string[];
  /** Distinct pool threads that ran a trial epoch (threads started over the run). */
  threads_seen: number;
  /** Most trials running at once (over all rounds). */
  max_concurrent: number;
  env: Record<string, string | undefined>;
  seconds: number;
  load_average: { start: number[]; end: number[] };
  rss_mb: number;
}

/** Thread counts of the rounds: the pool is re-made with another size each time. */
function roundThreads(threads: number, round: number): number {
  const cycle = [threads, Math.max(1, Math.ceil(threads / 2)), threads, Math.max(1, threads - 1)];
  return cycle[round % cycle.length];
}

/** How a planned trial must end, against how it did: undefined when it matches. */
export function mismatch(plan: PlannedTrial, got: ResultEvent | Error): string | undefined {
  const id = plan.spec.trial_id;
  const said =
    got instanceof Error ? `threw ${got.name}: ${got.message}` : `${got.state} (${got.error ?? ''})`;
  const bad = (why: string) => `${id} (${plan.kind}, ${String(plan.spec.params.arch)}): ${why}; got ${said}`;
  if (plan.kind === 'cancel') {
    return got instanceof Error && got.name === 'TrialInterruptedError' ? undefined : bad('not interrupted');
  }
  if (got instanceof Error) return bad('threw');
  if (got.error !== undefined && /thread died|crash/i.test(got.error)) return bad('its thread died');
  switch (plan.kind) {
    case 'complete':
    case 'stop': {
      const state = plan.kind === 'stop' ? 'stopped' : 'completed';
      if (got.state !== state) return bad(`expected ${state}`);
      if (got.backend !== 'tensorflow') return bad(`ran on backend ${String(got.backend)}`);
      const acc = got.metrics.val_acc;
      return typeof acc === 'number' && Number.isFinite(acc) ? undefined : bad('no finite val_acc');
    }
    case 'save-fails':
      return got.state === 'failed' && /ENOTDIR|EEXIST|not a directory/i.test(got.error ?? '')
        ? undefined
        : bad('expected a failed save');
    case 'wrong-data':
      return got.state === 'failed' && /data set mismatch/.test(got.error ?? '')
        ? undefined
        : bad('expected a data set mismatch');
  }
}

export async function runPoolStress(options: StressOptions): Promise<StressReport> {
  const started = performance.now();
  const loadStart = loadavg();
  // The pool's models folder is a file: every trial that saves its model fails there.
  const modelsFile = join(tmpdir(), `hpo-native-stress-${process.pid}.file`);
  writeFileSync(modelsFile, 'not a folder\n');
  const total = options.threads * options.trialsPerThread;
  const plans = Array.from({ length: total }, (_, i) => plannedTrial(i, options.trainSize));
  // Each wave of a round gives every thread at least one trial.
  const roundCount = Math.max(1, Math.min(5, Math.floor(options.trialsPerThread / 2)));
  const perRound = Math.ceil(total / roundCount);
  const rounds: RoundStats[] = [];
  const threadsSeen = new Set<number>();
  const outcomes: Record<string, Record<string, number>> = {};
  const mismatches: string[] = [];
  for (let r = 0; r * perRound < total; r++) {
    const pool = new TrialPool({
      threads: roundThreads(options.threads, r),
      backend: 'tensorflow',
      dataDir: options.dataDir,
      modelsDir: modelsFile,
      threadIdleMs: 150,
      name: `stress-round-${r}`,
    });
    const stats = await runRound(
      pool,
      plans.slice(r * perRound, (r + 1) * perRound),
      threadsSeen,
      (plan, got) => {
        const ended = got instanceof Error ? got.name : got.state;
        outcomes[plan.kind] ??= {};
        outcomes[plan.kind][ended] = (outcomes[plan.kind][ended] ?? 0) + 1;
        const wrong = mismatch(plan, got);
        if (wrong !== undefined) mismatches.push(wrong);
      },
    );
    rounds.push(stats);
  }
  return {
    threads: options.threads,
    trials: total,
    rounds,
    outcomes,
    mismatches,
    threads_seen: threadsSeen.size,
    max_concurrent: Math.max(...rounds.map((r) => r.max_concurrent)),
    env: Object.fromEntries(NATIVE_THREAD_VARIABLES.map((k) => [k, process.env[k]])),
    seconds: (performance.now() - started) / 1000,
    load_average: { start: loadStart, end: loadavg() },
    rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: '4' },
      'trials-per-thread': { type: 'string', default: '50' },
      'train-size': { type: 'string', default: '256' },
      'data-dir': { type: 'string', default: TEST_DATA_DIR },
    },
  });
  const int = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected an integer >= 1, got '${v}'`);
    return n;
  };
  const report = await runPoolStress({
    threads: int('threads', values.threads),
    trialsPerThread: int('trials-per-thread', values['trials-per-thread']),
    trainSize: int('train-size', values['train-size']),
    dataDir: values['data-dir'],
  });
  process.stdout.write(`${JSON.stringify({ ...report, cores: availableParallelism() }, null, 2)}\n`);
  process.exitCode = report.mismatches.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`pool-stress: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  });
}
