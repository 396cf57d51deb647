/**
 * `npm run test:load -- [--trials N] [--quick] [--processes P] [--concurrency C] [--max-in-flight M]
 * [--epochs E] [--sleep-ms S] [--out FILE.json]`: a real nats-server, P `hpo worker` processes x C
 * slots (default 4 x 16 = 64) and `hpo search --nats` of N synthetic trials (default 10,000, all queued
 * at once: --max-in-flight defaults to N). Every second it samples the resident memory (VmRSS from
 * /proc/PID/status) of the orchestrator, each worker and the server. At the end it checks the store
 * (every trial once, completed, with every epoch row; the experiment completed) and whether memory is
 * bounded: each process's peak in the second half of the run at most BOUND x its peak in the first half
 * (+ 16 MB for allocator noise; the first tenth, start-up, is left out of the first half). Prints a table, writes JSON (default bench-load.json), exits 1 on any
 * failure. --quick: 1,000 trials. Not part of `npm test`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { killOnExit } from '../../bench/cleanup.js';
import { startNatsServer } from '../../bench/nats-server.js';
import { syntheticSource } from '../../bench/dispatch/synthetic-space.js';
import { withWarmFleet } from '../../bench/dispatch/fleet-session.js';
import type { WorkerFleet } from '../../bench/dispatch/worker-fleet.js';
import { plainTable } from '../../cli/plain-table.js';
import { SqliteStore } from '../../orchestrator/store/index.js';
import { connectNats } from '../../worker/nats/index.js';

const HPO_BIN = fileURLToPath(new URL('../../../bin/hpo.js', import.meta.url));
/** Second-half peak / first-half peak above which memory counts as growing. */
const BOUND = 1.25;
const NOISE_MB = 16;

interface Flags {
  trials: number;
  quick?: boolean;
  processes: number;
  concurrency: number;
  maxInFlight?: number;
  epochs: number;
  sleepMs: number;
  out: string;
}

interface Series {
  name: string;
  pid: number;
  /** [seconds since start, RSS MB] */
  samples: [number, number][];
}

interface MemoryRow {
  name: string;
  startMb: number;
  peakMb: number;
  endMb: number;
  firstHalfPeakMb: number;
  secondHalfPeakMb: number;
  bounded: boolean;
}

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got '${v}'`);
  return n;
};
const nonNegative = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected an integer >= 0, got '${v}'`);
  return n;
};

/** Resident memory of a process in MB, or null once it is gone. */
function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function summarize(s: Series): MemoryRow {
  const mb = s.samples.map(([, v]) => v);
  const end = s.samples.length === 0 ? 0 : s.samples[s.samples.length - 1][0];
  // The first tenth is start-up (the orchestrator loading its modules, queueing the trials).
  const first = s.samples.filter(([t]) => t >= end / 10 && t <= end / 2).map(([, v]) => v);
  const second = s.samples.filter(([t]) => t > end / 2).map(([, v]) => v);
  const firstHalfPeakMb = Math.max(0, ...first);
  const secondHalfPeakMb = Math.max(0, ...second);
  return {
    name: s.name,
    startMb: mb[0] ?? 0,
    peakMb: Math.max(0, ...mb),
    endMb: mb[mb.length - 1] ?? 0,
    firstHalfPeakMb,
    secondHalfPeakMb,
    bounded: secondHalfPeakMb <= firstHalfPeakMb * BOUND + NOISE_MB,
  };
}

/** Store consistency: every trial once, completed, with its epoch rows; the experiment completed. */
async function checkStore(db: string, experiment: string, trials: number, epochs: number): Promise<string[]> {
  const problems: string[] = [];
  const store = SqliteStore.open(db);
  try {
    const exp = await store.getExperiment(experiment);
    if (exp?.status !== 'completed') problems.push(`experiment status ${exp?.status ?? 'missing'}`);
    const rows = await store.listTrials(experiment);
    if (rows.length !== trials) problems.push(`${rows.length} trials stored, expected ${trials}`);
    const ids = new Set(rows.map((t) => t.trial_id));
    if (ids.size !== rows.length) problems.push(`${rows.length - ids.size} duplicated trial ids`);
    let notCompleted = 0;
    let missingEpochs = 0;
    let retried = 0;
    for (const t of rows) {
      if (t.state !== 'completed') notCompleted++;
      if (t.attempt !== 1) retried++;
      const n = (await store.listEpochs(experiment, t.trial_id)).length;
      if (n !== epochs || t.epochs !== epochs) missingEpochs++;
    }
    if (notCompleted > 0) problems.push(`${notCompleted} trials not completed`);
    if (missingEpochs > 0) problems.push(`${missingEpochs} trials without exactly ${epochs} epoch rows`);
    if (retried > 0) problems.push(`${retried} trials needed another attempt`);
  } finally {
    await store.close();
  }
  return problems;
}

function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

async function main(flags: Flags): Promise<number> {
  const trials = flags.quick ? 1000 : flags.trials;
  const maxInFlight = flags.maxInFlight ?? trials;
  const log = (line: string) => process.stderr.write(`load: ${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'hpo-load-'));
  const server = await startNatsServer();
  const forgetServer = killOnExit(() => server.kill());
  const nc = await connectNats({ servers: [server.url], name: 'load monitor' });
  try {
    return await withWarmFleet(
      {
        nc,
        url: server.url,
        processes: flags.processes,
        concurrency: flags.concurrency,
        namePrefix: 'load-w',
        log,
      },
      (fleet) => loadRun(flags, trials, maxInFlight, server.url, server.pid, fleet, dir, log),
    );
  } finally {
    await nc.close();
    await server.stop();
    forgetServer();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function loadRun(
  flags: Flags,
  trials: number,
  maxInFlight: number,
  url: string,
  serverPid: number,
  fleet: WorkerFleet,
  dir: string,
  log: (line: string) => void,
): Promise<number> {
  let search: ChildProcess | undefined;
  try {
    const experiment = 'load';
    const db = join(dir, 'hpo.db');
    const space = join(dir, 'space.yaml');
    writeFileSync(space, syntheticSource({ trials, epochs: flags.epochs, sleepMs: flags.sleepMs }));
    const t0 = performance.now();
    const proc = spawn(
      process.execPath,
      [
        HPO_BIN,
        'search',
        space,
        '--name',
        experiment,
        '--db',
        db,
        '--nats',
        url,
        '--max-in-flight',
        String(maxInFlight),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    search = proc;
    let searchErr = '';
    proc.stderr?.on('data', (d: Buffer) => (searchErr = (searchErr + d.toString()).slice(-8000)));
    const done = exited(proc);

    const series: Series[] = [
      { name: 'orchestrator (hpo search)', pid: proc.pid ?? -1, samples: [] },
      ...[...fleet.pids()].map(([name, pid]) => ({ name: `worker ${name}`, pid, samples: [] })),
      { name: 'nats-server', pid: serverPid, samples: [] },
    ];
    const sample = () => {
      const t = (performance.now() - t0) / 1000;
      for (const s of series) {
        const mb = rssMb(s.pid);
        if (mb !== null) s.samples.push([t, mb]);
      }
    };
    sample();
    const timer = setInterval(sample, 1000);
    const code = await done;
    clearInterval(timer);
    const seconds = (performance.now() - t0) / 1000;
    log(`hpo search exited with ${code} after ${seconds.toFixed(1)} s`);

    const problems: string[] = [];
    if (code !== 0) problems.push(`hpo search exited with ${code}:\n${searchErr}`);
    fleet.checkAlive();
    problems.push(...(await checkStore(db, experiment, trials, flags.epochs)));
    // The orchestrator's own samples stop when it exits; the first-second sample is its start.
    const rows = series.map(summarize);
    for (const r of rows) {
      if (!r.bounded) {
        problems.push(
          `${r.name}: memory grew (second-half peak ${r.secondHalfPeakMb.toFixed(0)} MB > ` +
            `${BOUND} x first-half peak ${r.firstHalfPeakMb.toFixed(0)} MB + ${NOISE_MB} MB)`,
        );
      }
    }

    const table = plainTable([
      'process',
      'start MB',
      'peak MB',
      'end MB',
      '1st-half peak',
      '2nd-half peak',
      'bounded',
    ]);
    for (const r of rows) {
      table.push([
        r.name,
        r.startMb.toFixed(0),
        r.peakMb.toFixed(0),
        r.endMb.toFixed(0),
        r.firstHalfPeakMb.toFixed(0),
        r.secondHalfPeakMb.toFixed(0),
        r.bounded ? 'yes' : 'NO',
      ]);
    }
    process.stdout.write(
      `${trials} synthetic trials (${flags.epochs} epoch(s) x ${flags.sleepMs} ms), ` +
        `${flags.processes} workers x ${flags.concurrency} slots, max in flight ${maxInFlight}: ` +
        `${seconds.toFixed(1)} s (${(trials / seconds).toFixed(0)} trials/s)\n${table.toString()}\n`,
    );
    process.stdout.write(
      problems.length === 0
        ? `store consistent: ${trials} trials, each once, completed, ${flags.epochs} epoch row(s) each\n`
        : `PROBLEMS:\n${problems.join('\n')}\n`,
    );
    const report = {
      when: new Date().toISOString(),
      trials,
      epochs: flags.epochs,
      sleepMs: flags.sleepMs,
      processes: flags.processes,
      concurrency: flags.concurrency,
      maxInFlight,
      seconds,
      bound: { ratio: BOUND, noiseMb: NOISE_MB },
      memory: rows,
      samples: series,
      problems,
    };
    writeFileSync(flags.out, `${JSON.stringify(report, null, 2)}\n`);
    log(`report written to ${flags.out}`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    if (search && search.exitCode === null) search.kill('SIGKILL');
  }
}

const program = new Command('test:load')
  .option('--trials <n>', 'synthetic trials', positive, 10_000)
  .option('--quick', '1,000 trials')
  .option('--processes <n>', 'hpo worker processes', positive, 4)
  .option('--concurrency <n>', 'slots per worker', positive, 16)
  .option('--max-in-flight <n>', 'trials queued or running at once (default: all of them)', positive)
  .option('--epochs <n>', 'epochs per trial', positive, 2)
  .option('--sleep-ms <n>', 'sleep per epoch', nonNegative, 0)
  .option('--out <file>', 'JSON report', 'bench-load.json');
program.parse();
main(program.opts<Flags>()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
