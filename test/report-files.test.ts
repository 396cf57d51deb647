import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectRunInfo } from '../orchestrator/core/index.js';
import { writeReport } from '../orchestrator/report/index.js';
import type { SearchSpace } from '../orchestrator/search-space/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';

function space(optimizer: string, lr: number): SearchSpace {
  return {
    method: 'grid',
    metric: { name: 'val_acc', goal: 'maximize' },
    parameters: {
      arch: { kind: 'categorical', values: ['mlp', 'cnn'] },
      optimizer: { kind: 'constant', value: optimizer },
      learning_rate: { kind: 'constant', value: lr },
      batch_size: { kind: 'categorical', values: [32, 64] },
    },
    task: 'multi-digit-mnist',
    seed: 1,
    data: { seed: 1 },
  };
}

/** Two experiments (SGD, Adam) in a real SQLite file, with epochs, results and run metadata. */
async function fill(store: SqliteStore): Promise<void> {
  for (const [name, opt, lr] of [
    ['sgd', 'sgd', 0.01],
    ['adam', 'adam', 0.0001],
  ] as const) {
    await store.createExperiment(name, space(opt, lr), '');
    await store.recordRun(
      name,
      collectRunInfo({
        backendChoice: 'wasm',
        workers: '2 local trial thread(s)',
        data: { seed: 1, sha256: 'ab'.repeat(32) },
      }),
    );
    let i = 0;
    for (const arch of ['mlp', 'cnn']) {
      for (const batch of [32, 64]) {
        const id = `t${i}`;
        await store.addTrial(name, {
          trial_id: id,
          index: i,
          params: { arch, optimizer: opt, learning_rate: lr, batch_size: batch },
          seed: i,
        });
        await store.startTrial(name, id, 'w');
        const acc = 0.5 + i / 10 + (opt === 'adam' ? 0.05 : 0);
        for (const epoch of [1, 2]) {
          await store.recordEpoch(name, id, epoch, {
            train_loss: 2 / epoch,
            val_loss: 2.2 / epoch,
            train_acc_top: acc - 0.1 / epoch,
            train_acc_bottom: acc - 0.2 / epoch,
            val_acc_top: acc,
            val_acc_bottom: acc - 0.05,
            val_acc: acc - 0.025,
          });
        }
        await store.recordResult(name, id, {
          attempt: 1,
          state: 'completed',
          metrics: {
            val_acc: acc - 0.025,
            train_acc_top: acc - 0.05,
            train_acc_bottom: acc - 0.1,
            test_acc_top: acc - 0.01,
            test_acc_bottom: acc - 0.02,
            test_acc: acc - 0.015,
          },
          epochs: 2,
          worker: 'w',
          backend: 'wasm',
          started_at: 1000 * i,
          ended_at: 1000 * i + 500,
        });
        i++;
      }
    }
  }
}

describe('hpo report files: report.md, self-contained report.html, SVG plots', function () {
  this.timeout(120_000);
  let dir: string;
  let store: SqliteStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-report-'));
    store = SqliteStore.open(join(dir, 'hpo.db'));
    await fill(store);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the leaderboard, the table with the reference beside it, plots, hardware and data', async () => {
    const out = join(dir, 'out');
    const r = await writeReport(store, ['sgd', 'adam'], out, { now: Date.UTC(2026, 0, 2) });
    const md = await readFile(join(out, 'report.md'), 'utf8');
    // Leaderboard: best first by val_acc across both experiments (adam t3: 0.5 + 0.3 + 0.05 - 0.025).
    const board = md.split('## Leaderboard')[1].split('##')[0];
    assert.match(board, /\| 1 \| adam \| t3 \| 0\.825 \| cnn \| adam \| 0\.0001 \| 64 \|/);
    assert.match(board, /\| 8 \| sgd \| t0 \| 0\.475 \|/);
    // The report's table: cnn sgd 64 beside the report's (88%, 80%) / (87%, 80%); mlp matches the unstated batch.
    assert.match(
      md,
      /\| cnn \| sgd \| 0\.01 \| 64 \| 2 \| sgd\/t3 \| 0\.775 \| \(75%, 70%\) \| \(79%, 78%\) \| 10, 64 \| \(88%, 80%\) \| \(87%, 80%\) \|/,
    );
    assert.match(md, /\| mlp \| sgd \| 0\.01 \| 32 \| .* \| 10, unstated \| \(84%, 83%\) \| \(83%, 82%\) \|/);
    assert.match(md, /Report rows with no matching configuration/);
    assert.match(md, /multi-digit-mnist-report\.md/);
    assert.match(md, /sha256 (ab){32}/);
    assert.match(md, /Backends the trials ran on: wasm \(8 trials\)/);
    // Plots: learning curves and one per searched parameter (arch, optimizer, learning_rate, batch_size).
    const plots = (await readdir(join(out, 'plots'))).sort();
    assert.deepEqual(plots, [
      'best-so-far.svg',
      'learning-curves-accuracy.svg',
      'learning-curves-loss.svg',
      'param-arch.svg',
      'param-batch_size.svg',
      'param-learning_rate.svg',
      'param-optimizer.svg',
    ]);
    for (const p of plots) {
      const svg = await readFile(join(out, 'plots', p), 'utf8');
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.match(svg, /<path|<circle|<line/);
      assert.ok(md.includes(`(plots/${p})`), `report.md links ${p}`);
    }
    const curves = await readFile(join(out, 'plots', 'learning-curves-loss.svg'), 'utf8');
    assert.ok(curves.includes('adam/t3 cnn adam lr=1e-4 b64'), 'a panel per trial, titled with its params');
    // HTML: one file, every plot inlined, no external resources.
    const html = await readFile(r.html, 'utf8');
    assert.equal(html.match(/<svg /g)?.length, plots.length);
    assert.doesNotMatch(html, /<img |src=|href="http|<script|<link /);
    assert.match(html, /<table>/);
    assert.match(html, /<td>\(88%, 80%\)<\/td>/);
  });

  it('writes the report when a text names an image that is not a plot (it stays text)', async () => {
    await store.createExperiment(
      'img',
      { ...space('sgd', 0.01), description: 'see ![a](plots/nope.svg) and ![b](x.png)' },
      '',
    );
    const out = join(dir, 'img');
    const r = await writeReport(store, ['img'], out);
    const md = await readFile(r.markdown, 'utf8');
    assert.ok(md.includes('plots/nope.svg'), 'report.md keeps the text');
    const html = await readFile(r.html, 'utf8');
    assert.match(html, /see a and b/);
    assert.doesNotMatch(html, /<img |nope\.svg|<figure>/);
    assert.deepEqual(await readdir(join(out, 'plots')), []);
  });

  it('refuses experiments with different metrics, and unknown names, before writing anything', async () => {
    await store.createExperiment(
      'loss',
      { ...space('sgd', 0.01), metric: { name: 'val_loss', goal: 'minimize' } },
      '',
    );
    await assert.rejects(writeReport(store, ['sgd', 'loss'], join(dir, 'x')), /differ in task or metric/);
    await assert.rejects(writeReport(store, ['nope'], join(dir, 'y')), /no experiment 'nope'/);
    await assert.rejects(readdir(join(dir, 'x')), /ENOENT/);
  });
});
