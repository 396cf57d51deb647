import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchRunner } from '../orchestrator/core/index.js';
import { AshaScheduler, bracketRungs } from '../orchestrator/schedulers/index.js';
import { parseSearchSpace } from '../orchestrator/search-space/index.js';
import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { createStrategy } from '../orchestrator/strategies/index.js';
import { InProcessTransport } from '../orchestrator/transport/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { runHpo } from './helpers/cli.js';

const space = (method: string, runCap: number, sleepMs: number) => `
method: ${method}
task: synthetic
seed: 5
run_cap: ${runCap}
metric: {name: val_acc, goal: maximize}
early_terminate: {type: hyperband, min_iter: 1, eta: 3, max_iter: 9}
parameters:
  lr: {distribution: log_uniform_values, min: 0.0001, max: 0.1}
  width: {distribution: int_uniform, min: 8, max: 256}
  act: {values: [relu, tanh, gelu]}
  epochs: {value: 9}
  sleep_ms: {value: ${sleepMs}}
`;

interface Row {
  trial_id: string;
  state: string;
  epochs: number;
  rung: number | null;
}

describe('ASHA, median stopping and TPE through hpo search (real processes, SQLite file, synthetic task)', function () {
  this.timeout(180_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-cli-asha-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const method of ['random', 'bayes']) {
    it(`${method} + hyperband: stopped trials appear in the leaderboard and status with their rung`, async () => {
      const file = join(dir, `${method}.yaml`);
      await writeFile(file, space(method, 24, 0));
      const db = join(dir, `${method}.db`);
      const run = await runHpo([
        'search',
        file,
        '--name',
        's',
        '--db',
        db,
        '--workers',
        '2',
        '--backend',
        'cpu',
      ]);
      assert.equal(run.code, 0, run.stderr);

      const board = await runHpo(['leaderboard', 's', '--db', db, '--top', '100', '--format', 'json']);
      assert.equal(board.code, 0, board.stderr);
      const rows = JSON.parse(board.stdout) as Row[];
      assert.equal(rows.length, 24);
      const stopped = rows.filter((r) => r.state === 'stopped');
      const completed = rows.filter((r) => r.state === 'completed');
      assert.ok(stopped.length >= 12, `ASHA with eta 3 stops most trials; stopped ${stopped.length}`);
      assert.ok(completed.length >= 1);
      for (const r of stopped) {
        assert.ok([1, 3].includes(r.epochs), `${r.trial_id} stopped at epoch ${r.epochs}: not a rung`);
        assert.equal(r.rung, r.epochs);
      }
      for (const r of completed) assert.equal(r.rung, 9, 'ran to max_iter');

      const table = await runHpo(['leaderboard', 's', '--db', db, '--top', '100']);
      assert.match(table.stdout, /epochs_run\s*│\s*rung/);

      const status = await runHpo(['status', 's', '--db', db]);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`${stopped.length} stopped`));
      const atRung1 = stopped.filter((r) => r.rung === 1).length;
      assert.match(status.stdout, new RegExp(`stopped early: ${atRung1} at rung 1 \\(epoch 1\\)`));
      const json = JSON.parse((await runHpo(['status', 's', '--db', db, '--json'])).stdout);
      assert.equal(
        json.stopped_at.reduce((n: number, g: { trials: number }) => n + g.trials, 0),
        stopped.length,
      );
    });
  }

  it('median stopping: stopped trials appear in status by the epoch they stopped at', async () => {
    const file = join(dir, 'median.yaml');
    await writeFile(
      file,
      space('random', 24, 0).replace(
        /early_terminate: .*/,
        'early_terminate: {type: median, grace_epochs: 2, min_trials: 3}',
      ),
    );
    const db = join(dir, 'median.db');
    const run = await runHpo([
      'search',
      file,
      '--name',
      'm',
      '--db',
      db,
      '--workers',
      '2',
      '--backend',
      'cpu',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const rows = JSON.parse(
      (await runHpo(['leaderboard', 'm', '--db', db, '--top', '100', '--format', 'json'])).stdout,
    ) as Row[];
    const stopped = rows.filter((r) => r.state === 'stopped');
    assert.ok(stopped.length >= 3, `median rule stopped ${stopped.length} of 24`);
    for (const r of stopped) {
      assert.ok(r.epochs > 2 && r.epochs < 9, `${r.trial_id} stopped at epoch ${r.epochs}`);
      assert.equal(r.rung, undefined, 'no rungs without hyperband');
    }
    const status = await runHpo(['status', 'm', '--db', db]);
    assert.match(status.stdout, /stopped early: \d+ at epoch \d+/);
  });

  it('a resumed search rebuilds the rung results from the store', async () => {
    const store = SqliteStore.open(join(dir, 'resume.db'));
    const parsed = parseSearchSpace(space('random', 12, 20), { tasks: builtinTaskCatalog() });
    await store.createExperiment('r', parsed, 'test');
    const pool = new TrialPool({ threads: 2, backend: 'cpu' });
    const transport = () =>
      new InProcessTransport({
        slots: pool.slots,
        name: pool.name,
        run: (s, h) => pool.run(s, h),
        close: async () => {},
      });
    try {
      const controller = new AbortController();
      let results = 0;
      const first = await new SearchRunner({
        store,
        transport: transport(),
        strategy: createStrategy(parsed),
        scheduler: new AshaScheduler(parsed.metric, parsed.early_terminate as never),
        experiment: 'r',
        signal: controller.signal,
        onProgress: (p) => {
          if (p.event.kind === 'result' && ++results === 5) controller.abort();
        },
      }).run();
      assert.equal(first.status, 'interrupted');
      const finished = (await store.listTrials('r')).filter(
        (t) => t.state === 'completed' || t.state === 'stopped',
      );
      assert.ok(finished.length >= 5);

      const asha = new AshaScheduler(parsed.metric, parsed.early_terminate as never);
      let recordedAtStart = -1;
      const second = await new SearchRunner({
        store,
        transport: transport(),
        strategy: createStrategy(parsed),
        scheduler: asha,
        experiment: 'r',
        onProgress: () => {
          if (recordedAtStart < 0) recordedAtStart = asha.recorded(0, 1);
        },
      }).run();
      assert.equal(second.status, 'completed');
      // Every trial finished before the resume reached rung 1 and is recorded there at start.
      assert.equal(recordedAtStart, finished.length);
      const all = await store.listTrials('r');
      assert.equal(asha.recorded(0, 1), all.length);
      const reached3 = all.filter((t) => t.epochs >= 3).length;
      assert.equal(asha.recorded(0, 3), reached3);
      assert.deepEqual(bracketRungs(asha.settings, 0), [1, 3]);
    } finally {
      await pool.close();
      await store.close();
    }
  });
});
