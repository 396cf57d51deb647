/**
 * The chaos scenarios. Each starts its own nats-server (file store), `hpo worker` processes and an
 * `hpo search --nats` process, injects one kind of fault at a moment drawn from a seeded schedule
 * (which worker, after how many results, how long), lets the experiment finish, and audits the store.
 */
import { join } from 'node:path';
import { SqliteStore } from '../../orchestrator/store/index.js';
import type { TrialRecord } from '../../orchestrator/store/types.js';
import { cacheFilePath } from '../../worker/data/cache.js';
import { writeDatasetFile } from '../../worker/data/format.js';
import { Prng } from '../../shared/prng.js';
import { testDataset } from '../helpers/dataset.js';
import { type Expectation, type Verdict, audit, finalSnapshot } from './audit.js';
import { Cluster, type HpoProcess, exitCode, sleep, until } from './cluster.js';

/** ack_wait the chaos searches run with: short, so a lost worker's trials come back fast. */
export const ACK_WAIT_MS = 2000;
/** How long one run may take before it counts as hung. */
const RUN_LIMIT_MS = 180_000;

export interface ScenarioResult extends Verdict {
  /** What was done, with the schedule's draws (e.g. `kill -9 w2 after 3 results, holding t0004`). */
  fault: string;
}

export interface Scenario {
  name: string;
  description: string;
  run(c: Cluster, rng: Prng, seed: number): Promise<ScenarioResult>;
}

function gridSpace(a: number, epochs: number, sleepMs: number, extra = ''): string {
  const values = Array.from({ length: a }, (_, i) => i + 1).join(', ');
  return `method: grid
task: synthetic
metric: {name: val_acc, goal: maximize}
parameters:
  a: {values: [${values}]}
  b: {values: [x, y]}
  epochs: {value: ${epochs}}
  sleep_ms: {value: ${sleepMs}}
${extra}`;
}

const allCompleted = (trials: number, epochs: number): Expectation => ({
  trials,
  epochs,
  expect: () => ({ state: 'completed' }),
});

interface SearchRun {
  exp: string;
  db: string;
  proc: HpoProcess;
}

async function startSearch(
  c: Cluster,
  scenario: string,
  seed: number,
  space: string,
  extra: string[] = [],
): Promise<SearchRun> {
  const exp = `chaos-${scenario}-${seed}`;
  const db = join(c.dir, 'hpo.db');
  const file = await c.file('space.yaml', space);
  await c.watch(exp);
  const proc = c.spawn('search', [
    'search',
    file,
    '--name',
    exp,
    '--db',
    db,
    '--nats',
    c.server.url,
    '--seed',
    String(seed),
    ...(extra.includes('--ack-wait') ? [] : ['--ack-wait', String(ACK_WAIT_MS)]),
    ...extra,
  ]);
  return { exp, db, proc };
}

/** Waits for the orchestrator (search or resume) to exit 0, then audits. */
async function finish(
  run: SearchRun,
  orchestrator: HpoProcess,
  want: Expectation,
  before: TrialRecord[],
): Promise<Verdict> {
  const code = await exitCode(orchestrator, RUN_LIMIT_MS);
  const verdict = await audit(run.db, run.exp, want, before, orchestrator.output());
  if (code !== 0) {
    verdict.wrongState++;
    verdict.problems.push(`${orchestrator.name} exited with ${code}:\n${orchestrator.output().slice(-2000)}`);
  }
  return verdict;
}

/** Waits until `k` results were published and `victim` is mid-trial; returns the trials it holds. */
async function midTrial(c: Cluster, run: SearchRun, k: number, victim: string, epochs: number) {
  const mon = c.monitor!;
  await until(`${k} results`, () => mon.resultCount() >= k, RUN_LIMIT_MS, run.proc);
  await until(`${victim} mid-trial`, () => mon.midTrial(victim, epochs).length > 0, RUN_LIMIT_MS, run.proc);
  return mon.midTrial(victim, epochs);
}

const killWorker: Scenario = {
  name: 'kill -9 worker',
  description: 'a worker is killed with SIGKILL while it runs trials; ack_wait hands them to the other',
  async run(c, rng, seed) {
    const workers = [c.worker('w1'), c.worker('w2')];
    const run = await startSearch(c, 'kill-worker', seed, gridSpace(6, 4, 150));
    const k = 1 + rng.below(4);
    const victim = workers[rng.below(2)];
    const held = await midTrial(c, run, k, victim.name, 4);
    const before = await finalSnapshot(run.db, run.exp);
    victim.child.kill('SIGKILL');
    const verdict = await finish(run, run.proc, allCompleted(12, 4), before);
    return { ...verdict, fault: `kill -9 ${victim.name} after ${k} results, holding ${held.join(' ')}` };
  },
};

const stopWorker: Scenario = {
  name: 'SIGSTOP worker past ack_wait',
  description: 'a worker is frozen longer than ack_wait, then resumed; its late results must not count twice',
  async run(c, rng, seed) {
    const workers = [c.worker('w1'), c.worker('w2')];
    const run = await startSearch(c, 'stop-worker', seed, gridSpace(12, 4, 200));
    const k = 1 + rng.below(4);
    const victim = workers[rng.below(2)];
    const pauseMs = ACK_WAIT_MS + 1000 + rng.below(1500);
    const held = await midTrial(c, run, k, victim.name, 4);
    const before = await finalSnapshot(run.db, run.exp);
    victim.child.kill('SIGSTOP');
    await sleep(pauseMs);
    victim.child.kill('SIGCONT');
    const verdict = await finish(run, run.proc, allCompleted(24, 4), before);
    const late = held.filter((id) => (c.monitor!.results.get(id) ?? 0) > 1).length;
    return {
      ...verdict,
      fault:
        `SIGSTOP ${victim.name} for ${pauseMs} ms after ${k} results, holding ${held.join(' ')}; ` +
        `${late} of them reported twice (late + re-run)`,
    };
  },
};

const killOrchestrator: Scenario = {
  name: 'kill -9 orchestrator, resume',
  description: 'the orchestrator is killed with SIGKILL mid-search, then `hpo resume` finishes it',
  async run(c, rng, seed) {
    c.worker('w1');
    c.worker('w2');
    const run = await startSearch(c, 'kill-orch', seed, gridSpace(6, 4, 150), ['--max-in-flight', '4']);
    const k = 2 + rng.below(5);
    const delay = rng.below(300);
    await until(`${k} results`, () => c.monitor!.resultCount() >= k, RUN_LIMIT_MS, run.proc);
    await sleep(delay);
    run.proc.child.kill('SIGKILL');
    await run.proc.exit;
    const before = await finalSnapshot(run.db, run.exp);
    const resume = c.spawn('resume', [
      'resume',
      run.exp,
      '--db',
      run.db,
      '--nats',
      c.server.url,
      '--ack-wait',
      String(ACK_WAIT_MS),
      '--max-in-flight',
      '4',
    ]);
    const verdict = await finish(run, resume, allCompleted(12, 4), before);
    return {
      ...verdict,
      fault: `kill -9 orchestrator ${delay} ms after ${k} results (${before.length} final in the store), then resume`,
    };
  },
};

const restartNats: Scenario = {
  name: 'restart nats-server',
  description: 'nats-server (file store) is stopped mid-search, stays down a while, and starts again',
  async run(c, rng, seed) {
    c.worker('w1');
    c.worker('w2');
    const run = await startSearch(c, 'restart-nats', seed, gridSpace(6, 4, 150));
    const k = 1 + rng.below(6);
    const signal = rng.below(2) === 0 ? 'SIGTERM' : 'SIGKILL';
    const downMs = 500 + rng.below(2500);
    await until(`${k} results`, () => c.monitor!.resultCount() >= k, RUN_LIMIT_MS, run.proc);
    const before = await finalSnapshot(run.db, run.exp);
    await c.server.restart({ signal, downMs });
    const verdict = await finish(run, run.proc, allCompleted(12, 4), before);
    return { ...verdict, fault: `nats-server ${signal} after ${k} results, down ${downMs} ms` };
  },
};

const failingTask: Scenario = {
  name: 'task throws every time',
  description: 'half the trials throw at epoch 2: each ends failed with its error, reported once',
  async run(c, rng, seed) {
    c.worker('w1');
    c.worker('w2');
    const failAt = 1 + rng.below(3);
    const run = await startSearch(
      c,
      'failing-task',
      seed,
      gridSpace(3, 4, 100, `  fail_at_epoch: {values: [0, ${failAt}]}\n`),
    );
    const want: Expectation = {
      trials: 12,
      epochs: 4,
      expect: (t) =>
        t.params.fail_at_epoch === failAt
          ? { state: 'failed', error: new RegExp(`synthetic failure at epoch ${failAt} \\(fail_at_epoch\\)`) }
          : { state: 'completed' },
    };
    const verdict = await finish(run, run.proc, want, []);
    // A task error is final: the orchestrator never dispatches the trial again (attempt 1).
    const store = SqliteStore.open(run.db);
    try {
      for (const t of await store.listTrials(run.exp)) {
        if (t.state === 'failed' && t.attempt !== 1) {
          verdict.duplicated++;
          verdict.problems.push(`${t.trial_id} failed on attempt ${t.attempt}: a task error was retried`);
        }
      }
    } finally {
      await store.close();
    }
    return { ...verdict, fault: `fail_at_epoch ${failAt} in 6 of 12 trials` };
  },
};

const poisonWorkerDeath: Scenario = {
  name: 'worker dies on one trial every time',
  description:
    'every worker that takes one trial is killed: it ends failed after max_deliver, the others complete',
  async run(c, rng, seed) {
    const maxDeliver = 2;
    let n = 0;
    const workers = new Map<string, HpoProcess>();
    const spawnWorker = () => {
      // One slot each, so a killed worker holds only the poison trial.
      const w = c.worker(`w${++n}`, ['--concurrency', '1']);
      workers.set(w.name, w);
    };
    spawnWorker();
    spawnWorker();
    const run = await startSearch(c, 'poison', seed, gridSpace(4, 4, 150), [
      '--max-deliver',
      String(maxDeliver),
    ]);
    const poison = `t000${rng.below(4)}`;
    const mon = c.monitor!;
    let kills = 0;
    const killed = new Set<string>();
    while (!mon.results.has(poison)) {
      if (run.proc.child.exitCode !== null) break;
      const holder = [...workers.values()].find(
        (w) => !killed.has(w.name) && mon.midTrial(w.name, 4).includes(poison),
      );
      if (holder) {
        killed.add(holder.name);
        holder.child.kill('SIGKILL');
        kills++;
        spawnWorker();
      }
      await sleep(20);
    }
    const want: Expectation = {
      trials: 8,
      epochs: 4,
      expect: (t) =>
        t.trial_id === poison
          ? { state: 'failed', error: new RegExp(`gave up after ${maxDeliver} deliveries \\(max_deliver\\)`) }
          : { state: 'completed' },
    };
    const verdict = await finish(run, run.proc, want, []);
    if (kills !== maxDeliver) {
      verdict.wrongState++;
      verdict.problems.push(`${poison} was delivered ${kills} times, max_deliver is ${maxDeliver}`);
    }
    return { ...verdict, fault: `${poison}: its worker killed ${kills} time(s), max_deliver ${maxDeliver}` };
  },
};

/** A valid, self-consistent seed-1 data set whose content differs (one label changed) in `dir`. */
async function writeDifferentDataset(dir: string): Promise<void> {
  const ds = await testDataset();
  const top = Uint8Array.from(ds.train.top);
  top[0] = (top[0] + 1) % 10;
  await writeDatasetFile(cacheFilePath(1, dir), { ...ds, train: { ...ds.train, top } });
}

const dataMismatch: Scenario = {
  name: 'worker data set differs',
  description: "a worker whose data set's sha256 differs refuses every trial; they run on the other",
  async run(c, rng, seed) {
    const badDir = join(c.dir, 'other-data');
    await writeDifferentDataset(badDir);
    const bad = c.worker('bad', ['--data-dir', badDir]);
    const space = `method: grid
task: multi-digit-mnist
metric: {name: val_acc, goal: maximize}
data: {seed: 1}
parameters:
  arch: {value: mlp}
  learning_rate: {values: [0.001, 0.003]}
  batch_size: {value: 64}
  epochs: {value: 1}
  train_size: {value: 256}
`;
    // Real training blocks a loaded worker's main thread for seconds (loading and hashing the data
    // set): a 2 s ack_wait would hand its trials to the refusing worker and use up their deliveries.
    // Refusals back off (2, 4, 8, 16, 30 s) and do not use up max_deliver (a refused trial is queued
    // again before its last delivery): a small max_deliver checks exactly that.
    const run = await startSearch(c, 'data-mismatch', seed, space, [
      '--ack-wait',
      '20000',
      '--max-deliver',
      '3',
    ]);
    await until(
      'a refusal',
      () => /refusing trials: data set mismatch/.test(bad.output()),
      RUN_LIMIT_MS,
      run.proc,
    );
    const delay = rng.below(1000);
    await sleep(delay);
    c.worker('good');
    const want: Expectation = { trials: 2, epochs: 1, expect: () => ({ state: 'completed' }) };
    const verdict = await finish(run, run.proc, want, []);
    const store = SqliteStore.open(run.db);
    try {
      for (const t of await store.listTrials(run.exp)) {
        if (t.worker !== 'good') {
          verdict.wrongState++;
          verdict.problems.push(`${t.trial_id} ran on ${t.worker}, whose data set differs`);
        }
      }
    } finally {
      await store.close();
    }
    return { ...verdict, fault: `worker 'bad' refused; worker 'good' started ${delay} ms later` };
  },
};

export const SCENARIOS: readonly Scenario[] = [
  killWorker,
  stopWorker,
  killOrchestrator,
  restartNats,
  failingTask,
  poisonWorkerDeath,
  dataMismatch,
];

export interface RunRecord extends ScenarioResult {
  scenario: string;
  seed: number;
  seconds: number;
  /** Set when the run itself broke (a hang, a process that died): counts as a failed run. */
  error?: string;
}

/** Runs one scenario once with its own cluster; never throws. */
export async function runScenario(scenario: Scenario, seed: number, stream: number): Promise<RunRecord> {
  const started = Date.now();
  const c = await Cluster.start();
  const base = { scenario: scenario.name, seed };
  try {
    const result = await scenario.run(c, new Prng(seed, stream), seed);
    if (result.lost + result.duplicated + result.wrongState > 0) result.problems.push(c.outputs());
    return { ...base, ...result, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    return {
      ...base,
      trials: 0,
      lost: 0,
      duplicated: 0,
      wrongState: 0,
      problems: [c.outputs()],
      fault: '',
      seconds: (Date.now() - started) / 1000,
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    await c.stop();
  }
}
