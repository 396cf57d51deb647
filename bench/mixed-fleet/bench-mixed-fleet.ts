/**
 * `npm run bench:mixed-fleet -- [--trials N] [--runs N] [--out FILE.json]`: a mixed fleet over NATS
 * (issue 25 item 2). `hpo search` of N instant trials of a task module, on a real nats-server (fresh
 * per run) with real `hpo worker` processes: the worker offering the task alone, then with a built-in-only
 * worker beside it (which the trials must not reach). Wall time of `hpo search` from spawn to exit
 * (process start included, the same in both), median of the runs, their ratio (target: within 1.5x),
 * and the trials' end states and workers. Prints a table; writes the figures as JSON.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { positiveInt } from '../../cli/options/option-values.js';
import { SqliteStore } from '../../orchestrator/store/index.js';
import { connectNats } from '../../worker/nats/index.js';
import { killOnExit } from '../cleanup.js';
import { WorkerFleet } from '../dispatch/worker-fleet.js';
import { machineInfo } from '../machine.js';
import { findNatsServer, startNatsServer } from '../nats-server.js';
import { percentile } from '../stats.js';

const HPO_BIN = fileURLToPath(new URL('../../../bin/hpo.js', import.meta.url));
const DEFINE_TASK = new URL('../../worker/tasks/define-task.js', import.meta.url).href;
const TASK = `import { defineTask } from '${DEFINE_TASK}';
export default defineTask({
  name: 'parabola',
  metrics: ['loss'],
  async run(spec, ctx) {
    await ctx.reportEpoch(1, { loss: (spec.params.x - 7) ** 2 });
  },
});
`;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

interface RunFigures {
  seconds: number;
  completed: number;
  failed: number;
  /** Trials per worker name. */
  byWorker: Record<string, number>;
}

type Fleet = 'capable alone' | 'capable + built-in-only';

/** One search on a fresh nats-server with the given fleet. */
async function runOnce(dir: string, trials: number, fleet: Fleet, i: number): Promise<RunFigures> {
  const server = await startNatsServer();
  const unkillServer = killOnExit(() => server.kill());
  const fleets: WorkerFleet[] = [];
  const nc = await connectNats({ servers: [server.url] });
  try {
    const task = join(dir, 'my-task.mjs');
    const common = { url: server.url, processes: 1, concurrency: 2 };
    fleets.push(WorkerFleet.spawn({ ...common, namePrefix: 'capable', args: ['--task', task] }));
    if (fleet !== 'capable alone') fleets.push(WorkerFleet.spawn({ ...common, namePrefix: 'builtin' }));
    const unkillFleets = killOnExit(() => fleets.forEach((f) => f.kill()));
    for (const f of fleets) await f.waitAnnounced(nc, 2);
    const db = join(dir, `run-${i}.db`);
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [HPO_BIN, 'search', join(dir, 'sweep.yaml'), '--name', 'mixed', '--db', db, '--nats', server.url],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const unkillSearch = killOnExit(() => child.kill('SIGKILL'));
    const code = await exitCode(child);
    const seconds = (performance.now() - t0) / 1000;
    unkillSearch();
    if (code !== 0) throw new Error(`hpo search exited with ${code}`);
    const figures = { seconds, ...(await trialStates(db)) };
    if (figures.completed + figures.failed !== trials) throw new Error(`expected ${trials} trials`);
    for (const f of fleets) await f.stop();
    unkillFleets();
    return figures;
  } finally {
    await nc.close();
    for (const f of fleets) f.kill();
    await server.stop();
    unkillServer();
  }
}

function exitCode(child: ChildProcess): Promise<number | null> {
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      if (code !== 0) log(`hpo search failed:\n${err}`);
      resolve(code);
    }),
  );
}

async function trialStates(db: string): Promise<Omit<RunFigures, 'seconds'>> {
  const store = SqliteStore.open(db);
  try {
    const trials = await store.listTrials('mixed');
    const byWorker: Record<string, number> = {};
    for (const t of trials) byWorker[t.worker ?? '-'] = (byWorker[t.worker ?? '-'] ?? 0) + 1;
    return {
      completed: trials.filter((t) => t.state === 'completed').length,
      failed: trials.filter((t) => t.state === 'failed').length,
      byWorker,
    };
  } finally {
    await store.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('bench-mixed-fleet')
    .description(
      'a mixed fleet over NATS: the worker offering a task alone, and beside a built-in-only worker',
    )
    .option('--trials <n>', 'instant trials per search', positiveInt, 20)
    .option('--runs <n>', 'searches per fleet (median reported)', positiveInt, 3)
    .option('--out <file>', 'JSON report', 'bench-mixed-fleet.json')
    .parse(argv);
  const flags = program.opts<{ trials: number; runs: number; out: string }>();
  const dir = mkdtempSync(join(tmpdir(), 'hpo-bench-mixed-'));
  const load = { before: loadavg() };
  try {
    writeFileSync(join(dir, 'my-task.mjs'), TASK);
    const xs = Array.from({ length: flags.trials }, (_, i) => i).join(', ');
    writeFileSync(
      join(dir, 'sweep.yaml'),
      `method: grid\nmetric: {name: loss, goal: minimize}\ntask: ./my-task.mjs\nparameters:\n  x: {values: [${xs}]}\n`,
    );
    const runs: Record<Fleet, RunFigures[]> = { 'capable alone': [], 'capable + built-in-only': [] };
    let n = 0;
    for (let i = 0; i < flags.runs; i++) {
      // Interleaved, so a change of load on the machine touches both alike.
      for (const fleet of Object.keys(runs) as Fleet[]) {
        const r = await runOnce(dir, flags.trials, fleet, n++);
        log(
          `${fleet} #${i + 1}: ${r.seconds.toFixed(2)} s, ${JSON.stringify(r.byWorker)}, ${r.failed} failed`,
        );
        runs[fleet].push(r);
      }
    }
    const alone = percentile(
      runs['capable alone'].map((r) => r.seconds),
      50,
    );
    const mixed = percentile(
      runs['capable + built-in-only'].map((r) => r.seconds),
      50,
    );
    const ratio = mixed / alone;
    const report = {
      bench: 'mixed-fleet',
      trials: flags.trials,
      runs: flags.runs,
      machine: machineInfo(findNatsServer()),
      load: { ...load, after: loadavg() },
      median_seconds: { capable_alone: alone, with_builtin_only_worker: mixed },
      ratio,
      target_ratio: 1.5,
      met: ratio <= 1.5,
      detail: runs,
    };
    writeFileSync(flags.out, `${JSON.stringify(report, null, 2)}\n`);
    const failed = Object.values(runs)
      .flat()
      .reduce((n, r) => n + r.failed, 0);
    process.stdout.write(
      [
        `mixed fleet, ${flags.trials} instant trials, median of ${flags.runs} (load ${load.before.map((x) => x.toFixed(1)).join(' ')})`,
        `  capable worker alone              ${alone.toFixed(2)} s`,
        `  + a built-in-only worker          ${mixed.toFixed(2)} s`,
        `  ratio                             ${ratio.toFixed(2)}x (target <= 1.5x: ${ratio <= 1.5 ? 'met' : 'NOT met'})`,
        `  failed trials                     ${failed}`,
        `  report                            ${flags.out}`,
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(
    `bench-mixed-fleet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
