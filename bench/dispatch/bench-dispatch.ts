/**
 * `npm run bench:dispatch -- [--out FILE.json] [--quick]`: dispatch throughput, latency and overhead
 * of the distributed path, through a real nats-server (started here on a free loopback port with a temp
 * store, stopped at the end) and real `hpo worker` processes:
 *
 * (a) many zero-sleep synthetic trials: trials/s end to end and dispatch latency p50/p99;
 * (b) many 1 s trials over a fleet's slots: wall time against trials × 1 s / slots, and the
 *     orchestrator's CPU per trial;
 * (c) command tasks: hpo's overhead per trial beyond the program's own run time (spawn + parsing);
 * (s) scaling: (a) again for 1, 2 and 4 worker processes (a fresh fleet each), with CPU ms per trial of
 *     the orchestrator, nats-server and the workers (full run; `--quick` only with `--scaling`);
 * (r) replication: (a) on a three-node nats-server cluster with the streams at 1, then 3 replicas
 *     (`--only r`, or `--replication` with the others; not in the default run).
 *
 * Prints a table against the targets and writes the figures as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { connectNats } from '../../worker/nats/index.js';
import { positiveInt } from '../../cli/options/option-values.js';
import { killOnExit } from '../cleanup.js';
import { machineInfo } from '../machine.js';
import { findNatsServer, startNatsServer } from '../nats-server.js';
import { benchOverhead } from './overhead.js';
import { type DispatchBenchReport, renderTable, writeReport } from './dispatch-output.js';
import { benchThroughput } from './throughput.js';
import { benchCommandOverhead } from './command-overhead.js';
import { benchScaling } from './scaling.js';
import { benchReplication } from './replication.js';

interface Flags {
  out: string;
  quick?: boolean;
  only?: 'a' | 'b' | 'c' | 's' | 'r';
  scaling?: boolean;
  replication?: boolean;
  rTrials?: number;
  scalingTrials?: number;
  scalingWorkers?: number[];
  cTrials?: number;
  store: 'file' | 'memory';
  direct: boolean;
  aTrials?: number;
  aWorkers?: number;
  aConcurrency?: number;
  aMaxInFlight?: number;
  bTrials?: number;
  bWorkers?: number;
  bConcurrency?: number;
  bTrialMs?: number;
  bMaxInFlight?: number;
  profileDir?: string;
  timeout: number;
}

/** A comma-separated list of positive integers (commander option parser). */
function positiveIntList(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.some((part) => !/^[1-9][0-9]*$/.test(part))) {
    throw new InvalidArgumentError('expected comma-separated integers > 0, e.g. 1,2,4.');
  }
  return parts.map((part) => positiveInt(part));
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function main(argv: string[]): Promise<void> {
  const program = new Command('bench-dispatch')
    .description('dispatch throughput / latency / overhead through a real nats-server and hpo workers')
    .option('--out <file>', 'JSON report', 'bench-dispatch.json')
    .option(
      '--quick',
      'scaled-down smoke run (1,000 trials in (a), 200 in (b) over 16 slots; no scaling table unless --scaling)',
    )
    .addOption(
      new Option(
        '--only <run>',
        'run only (a), (b), (c), the scaling table (s) or the replication table (r)',
      ).choices(['a', 'b', 'c', 's', 'r']),
    )
    .option('--replication', 'also run the replication table (R1 against R3 on a 3-node cluster)')
    .option('--r-trials <n>', '(r) trials per row (default 3000; quick 600)', positiveInt)
    .option('--scaling', 'also run the scaling table (on by default, except with --quick)')
    .option('--scaling-trials <n>', '(s) trials per row (default 3000; quick 600)', positiveInt)
    .option(
      '--scaling-workers <list>',
      '(s) worker process counts, one row each (default 1,2,4)',
      positiveIntList,
    )
    .option('--c-trials <n>', '(c) command trials (default 200; quick 40)', positiveInt)
    .addOption(
      new Option('--store <kind>', "the orchestrator's SQLite store")
        .choices(['file', 'memory'])
        .default('file'),
    )
    .option('--no-direct', 'skip timing the transport alone (direct loop) in (a)')
    .option('--a-trials <n>', '(a) trials (default 10000; quick 1000)', positiveInt)
    .option('--a-workers <n>', '(a) hpo worker processes (default 2)', positiveInt)
    .option('--a-concurrency <n>', '(a) threads per worker (default 4)', positiveInt)
    .option('--a-max-in-flight <n>', '(a) NatsTransport maxInFlight (default: 2 x slots)', positiveInt)
    .option('--b-trials <n>', '(b) trials (default 2000; quick 200)', positiveInt)
    .option('--b-workers <n>', '(b) hpo worker processes (default 4; quick 2)', positiveInt)
    .option('--b-concurrency <n>', '(b) threads per worker (default 16; quick 8)', positiveInt)
    .option('--b-trial-ms <n>', '(b) sleep_ms of each trial (default 1000)', positiveInt)
    .option(
      '--b-max-in-flight <n>',
      '(b) NatsTransport maxInFlight (default: slots + slots / 4)',
      positiveInt,
    )
    .option(
      '--profile-dir <dir>',
      'write V8 CPU profiles of the worker processes here (profile the orchestrator with node --cpu-prof)',
    )
    .option(
      '--timeout <s>',
      'give up (and kill every child process) after this many seconds',
      positiveInt,
      1200,
    )
    .parse(argv);
  const flags = program.opts<Flags>();
  // A hung run must not leave nats-server and workers behind: exiting runs the kill handlers.
  setTimeout(() => {
    log(`gave up after ${flags.timeout} s`);
    process.exit(1);
  }, flags.timeout * 1000).unref();
  const quick = flags.quick === true;

  const natsBin = findNatsServer();
  const tmp = mkdtempSync(join(tmpdir(), 'hpo-bench-dispatch-'));
  const forgetTmp = killOnExit(() => rmSync(tmp, { recursive: true, force: true }));
  const storePath = (name: string) => (flags.store === 'memory' ? ':memory:' : join(tmp, `${name}.db`));
  const server = await startNatsServer();
  const forgetServer = killOnExit(() => server.kill());
  log(`nats-server ${server.url} (pid ${server.pid})`);
  const report: DispatchBenchReport = {
    machine: machineInfo(natsBin),
    date: new Date().toISOString(),
    quick,
  };
  const nc = await connectNats({ servers: [server.url], name: 'hpo bench-dispatch' });
  try {
    if (flags.only === undefined || flags.only === 'c') {
      report.c = await benchCommandOverhead(flags.cTrials ?? (quick ? 40 : 200), log);
    }
    if (flags.only === undefined || flags.only === 'a') {
      const processes = flags.aWorkers ?? 2;
      const concurrency = flags.aConcurrency ?? 4;
      const trials = flags.aTrials ?? (quick ? 1000 : 10_000);
      report.a = await benchThroughput(
        {
          nc,
          url: server.url,
          natsPid: server.pid,
          processes,
          concurrency,
          trials,
          warmTrials: quick ? 200 : 1000,
          probeTrials: quick ? 50 : 200,
          maxInFlight: flags.aMaxInFlight ?? 2 * processes * concurrency,
          storePath: storePath('a'),
          profileDir: flags.profileDir,
          direct: flags.direct,
          log,
        },
        report.machine.cores,
      );
    }
    if (flags.only === undefined || flags.only === 'b') {
      const processes = flags.bWorkers ?? (quick ? 2 : 4);
      const concurrency = flags.bConcurrency ?? (quick ? 8 : 16);
      const slots = processes * concurrency;
      report.b = await benchOverhead(
        {
          nc,
          url: server.url,
          natsPid: server.pid,
          processes,
          concurrency,
          trials: flags.bTrials ?? (quick ? 200 : 2000),
          trialMs: flags.bTrialMs ?? 1000,
          maxInFlight: flags.bMaxInFlight ?? slots + Math.ceil(slots / 4),
          storePath: storePath('b'),
          profileDir: flags.profileDir,
          log,
        },
        report.machine.cores,
      );
    }
    if (flags.only === 's' || flags.scaling === true || (flags.only === undefined && !quick)) {
      report.scaling = await benchScaling({
        nc,
        url: server.url,
        natsPid: server.pid,
        workerCounts: flags.scalingWorkers ?? [1, 2, 4],
        concurrency: flags.aConcurrency ?? 4,
        trials: flags.scalingTrials ?? (quick ? 600 : 3000),
        warmTrials: quick ? 200 : 1000,
        probeTrials: quick ? 50 : 200,
        storePath: (processes) => storePath(`s${processes}`),
        cores: report.machine.cores,
        log,
      });
    }
    if (flags.only === 'r' || flags.replication === true) {
      report.replication = await benchReplication({
        replicas: [1, 3],
        trials: flags.rTrials ?? (quick ? 600 : 3000),
        processes: flags.aWorkers ?? 2,
        concurrency: flags.aConcurrency ?? 4,
        warmTrials: quick ? 200 : 1000,
        probeTrials: quick ? 50 : 200,
        storePath: (replicas) => storePath(`r${replicas}`),
        cores: report.machine.cores,
        log,
      });
    }
  } finally {
    await nc.close().catch(() => undefined);
    await server.stop();
    forgetServer();
    rmSync(tmp, { recursive: true, force: true });
    forgetTmp();
  }
  process.stdout.write(`${renderTable(report)}\n`);
  writeReport(flags.out, report);
  log(`wrote ${flags.out}`);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(
    `bench-dispatch failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
