import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestSoFar, collectReport, writeReport } from '../orchestrator/report/index.js';
import type { SearchSpace } from '../orchestrator/search-space/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';

/** A conditional space: the learning rate exists only in the optimizer's branches. */
const SPACE: SearchSpace = {
  method: 'random',
  metric: { name: 'val_acc', goal: 'maximize' },
  parameters: {
    arch: { kind: 'categorical', values: ['mlp', 'cnn2'] },
    optimizer: {
      kind: 'categorical',
      values: ['sgd', 'adam'],
      branches: [
        { learning_rate: { kind: 'log_uniform_values', min: 0.001, max: 0.3 } },
        { learning_rate: { kind: 'log_uniform_values', min: 0.00003, max: 0.01 } },
      ],
    },
  },
  task: 'multi-digit-mnist',
  seed: 1,
  data: { seed: 1 },
};

const T0 = Date.UTC(2026, 10, 30, 2, 0, 0);
const MIN = 60_000;

// [trial, arch, optimizer, lr, value, state, start minute, end minute]; ended out of index order.
const TRIALS = [
  ['t0', 'mlp', 'sgd', 0.01, 0.8, 'completed', 0, 3],
  ['t1', 'cnn2', 'adam', 0.001, 0.7, 'stopped', 0, 1],
  ['t2', 'mlp', 'adam', 0.0003, 0.85, 'stopped', 1, 2],
  ['t3', 'cnn2', 'sgd', 0.05, 0.95, 'completed', 2, 10],
  ['t4', 'mlp', 'sgd', 0.02, 0.9, 'completed', 3, 12],
] as const;

describe('hpo report: best so far over wall time, branch parameters as searched ones', function () {
  this.timeout(120_000);
  let dir: string;
  let store: SqliteStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-report-bsf-'));
    store = SqliteStore.open(join(dir, 'hpo.db'));
    await store.createExperiment('hour', SPACE, '');
    for (const [index, [id, arch, optimizer, lr, value, state, start, end]] of TRIALS.entries()) {
      await store.addTrial('hour', {
        trial_id: id,
        index,
        params: { arch, optimizer, learning_rate: lr },
        seed: index,
      });
      await store.startTrial('hour', id, 'w');
      await store.recordEpoch('hour', id, 1, { val_acc: value, train_loss: 1 });
      await store.recordResult('hour', id, {
        attempt: 1,
        state,
        metrics: { val_acc: value },
        epochs: state === 'stopped' ? 1 : 10,
        worker: 'w',
        backend: 'wasm',
        started_at: T0 + start * MIN,
        ended_at: T0 + end * MIN,
      });
    }
    // A trial still running has no place on the timeline.
    await store.addTrial('hour', {
      trial_id: 't5',
      index: 5,
      params: { arch: 'mlp', optimizer: 'sgd', learning_rate: 0.1 },
      seed: 5,
    });
    await store.startTrial('hour', 't5', 'w');
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('orders finished trials by end time and keeps the best so far, from the first start', async () => {
    const points = bestSoFar(await collectReport(store, ['hour']));
    assert.deepEqual(
      points.map((p) => [p.trial.trial_id, p.minutes, p.value, p.best, p.improved]),
      [
        ['t1', 1, 0.7, 0.7, true],
        ['t2', 2, 0.85, 0.85, true],
        ['t0', 3, 0.8, 0.85, false],
        ['t3', 10, 0.95, 0.95, true],
        ['t4', 12, 0.9, 0.95, false],
      ],
    );
  });

  it('writes the plot and a table of the trials that raised the best; the branch learning rate is searched', async () => {
    const out = join(dir, 'out');
    await writeReport(store, ['hour'], out);
    const md = await readFile(join(out, 'report.md'), 'utf8');
    const section = md.split('## Best so far over wall time')[1].split('\n## ')[0];
    assert.ok(section.includes('(plots/best-so-far.svg)'));
    assert.match(section, /5 finished trials, the last at minute 12\.0/);
    const rows = section.split('\n').filter((l) => /^\| \d/.test(l));
    assert.deepEqual(rows, [
      '| 1.0 | t1 cnn2 adam lr=0.001 | stopped | 1 | 0.7 |',
      '| 2.0 | t2 mlp adam lr=3e-4 | stopped | 1 | 0.85 |',
      '| 10.0 | t3 cnn2 sgd lr=0.05 | completed | 10 | 0.95 |',
    ]);
    const board = md.split('## Leaderboard')[1].split('\n## ')[0];
    assert.match(board, /\| rank \| trial \| val_acc \| arch \| optimizer \| learning_rate \|/);
    const svg = await readFile(join(out, 'plots', 'best-so-far.svg'), 'utf8');
    assert.match(svg, /role-mark layer_1_marks/, 'the best-so-far line');
    assert.equal(svg.match(/aria-roledescription="point"/g)?.length, 5, 'a point per finished trial');
    await readFile(join(out, 'plots', 'param-learning_rate.svg'), 'utf8');
  });
});
