import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectRunInfo } from '../orchestrator/core/index.js';
import { writeReport } from '../orchestrator/report/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { displayNumber, shortNumber } from '../shared/number-format.js';
import { syntheticSpace } from './helpers/space.js';

const XSS_DESCRIPTION =
  '<script>alert("description")</script> [click](javascript:alert(1)) ![x](http://evil/x.png)';
const XSS_MODE = '<img src=x onerror=alert(2)>';
const XSS_WORKER = '<svg onload=alert(3)>';
const LR = 0.00041153259088060084;

/** A synthetic-task experiment whose description, string values and bus fields carry markup. */
async function fill(store: SqliteStore): Promise<void> {
  const space = syntheticSpace(
    {
      x: { kind: 'uniform', min: -2, max: 2 },
      learning_rate: { kind: 'log_uniform_values', min: 0.0001, max: 0.01 },
      mode: { kind: 'categorical', values: ['a', XSS_MODE] },
      epochs: { kind: 'constant', value: 3 },
    },
    { description: XSS_DESCRIPTION },
  );
  await store.createExperiment('syn', space, '');
  await store.recordRun('syn', {
    ...collectRunInfo({ backendChoice: 'auto', workers: `pool ${XSS_WORKER}` }),
  });
  for (let i = 0; i < 6; i++) {
    const id = `t${i}`;
    const params = {
      x: 0.123456789 * (i + 1),
      learning_rate: i === 0 ? LR : LR * (i + 1),
      mode: i % 2 ? XSS_MODE : 'a',
      epochs: 3,
    };
    await store.addTrial('syn', { trial_id: id, index: i, params, seed: i });
    await store.startTrial('syn', id, XSS_WORKER);
    const value = 0.9 - i * 0.0123456789;
    for (const epoch of [1, 2, 3]) {
      await store.recordEpoch('syn', id, epoch, {
        val_acc: (value * epoch) / 3,
        val_loss: 1 - (value * epoch) / 3,
        epoch_seconds: 0.05,
      });
    }
    await store.recordResult('syn', id, {
      attempt: 1,
      state: i === 5 ? 'failed' : 'completed',
      metrics: i === 5 ? {} : { val_acc: value, val_loss: 1 - value },
      epochs: 3,
      worker: XSS_WORKER,
      started_at: 1000 * i,
      ended_at: 1000 * i + 500,
      ...(i === 5 ? { error: '<script>alert("error")</script>' } : {}),
    });
  }
  await store.recordModel('syn', { trial_id: 't0', path: '/tmp/<b>m</b>', worker: XSS_WORKER, saved_at: 1 });
}

describe('hpo report of a non-MNIST task: task-neutral, readable, exact where it matters, escaped', function () {
  this.timeout(120_000);
  let dir: string;
  let store: SqliteStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-report-syn-'));
    store = SqliteStore.open(join(dir, 'hpo.db'));
    await fill(store);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has no MNIST table or columns, no empty plot or legend, and readable panel titles', async () => {
    const out = join(dir, 'out');
    await writeReport(store, ['syn'], out, { now: Date.UTC(2026, 0, 2) });
    const md = await readFile(join(out, 'report.md'), 'utf8');
    assert.doesNotMatch(md, /The report's table|Report rows with no matching|seed report/);
    const board = md.split('## Leaderboard')[1].split('##')[0];
    assert.doesNotMatch(board, /test \(top, bottom\)|train \(top, bottom\)|test_acc/);
    // Display rounding to 6 significant digits: 0.9 - 0.0123456789 = 0.8876543211 -> 0.887654.
    assert.match(board, /\| 2 \| t1 \| 0\.887654 \| 0\.246914 \| 0\.000823065 \|/);
    const plots = (await readdir(join(out, 'plots'))).sort();
    assert.deepEqual(plots, [
      'best-so-far.svg',
      'learning-curves-accuracy.svg',
      'learning-curves-loss.svg',
      'param-learning_rate.svg',
      'param-mode.svg',
      'param-x.svg',
    ]);
    for (const p of plots) {
      const svg = await readFile(join(out, 'plots', p), 'utf8');
      assert.match(svg, /<path|<circle|<line/, `${p} draws something`);
      assert.doesNotMatch(svg, />arch</, `${p}: no empty arch legend`);
    }
    const curves = await readFile(join(out, 'plots', 'learning-curves-accuracy.svg'), 'utf8');
    assert.ok(curves.includes('lr=4.1153e-4'), 'learning rate shortened in the panel title');
    assert.ok(!curves.includes('0.00041153259088060084'));
    // One panel per trial with epochs (the failed one too): 6 titles.
    for (let i = 0; i < 6; i++) assert.ok(curves.includes(`>t${i} x=`), `panel of t${i}`);
  });

  it('escapes every text that is not ours in report.html (description, string values, bus fields)', async () => {
    const out = join(dir, 'html');
    const r = await writeReport(store, ['syn'], out);
    const html = await readFile(r.html, 'utf8');
    const raw = /<script|<img|<svg onload|href="javascript|src="http/i.exec(html);
    assert.equal(
      raw,
      null,
      `raw markup in report.html: ${raw && html.slice(raw.index - 80, raw.index + 80)}`,
    );
    assert.ok(
      html.includes('&lt;script&gt;alert("description")&lt;/script&gt;'),
      'description shown as text',
    );
    assert.ok(html.includes('&lt;svg onload=alert(3)&gt;'), 'worker name shown as text');
    assert.ok(html.includes('&lt;img src=x onerror=alert(2)&gt;'), 'string parameter shown as text');
  });
});

describe('number formats', () => {
  it('display rounds to 6 significant digits; short titles use 5 and exponents for small numbers', () => {
    assert.equal(displayNumber(102703), '102703');
    assert.equal(displayNumber(0.00041153259088060084), '0.000411533');
    assert.equal(displayNumber(0.8876543211), '0.887654');
    assert.equal(displayNumber(1.23456789e-7), '1.23457e-7');
    assert.equal(shortNumber(0.00041153259088060084), '4.1153e-4');
    assert.equal(shortNumber(0.01), '0.01');
    assert.equal(shortNumber(256), '256');
  });
});
