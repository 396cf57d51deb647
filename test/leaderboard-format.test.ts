import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderLeaderboard } from '../cli/leaderboard-format.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import type { TrialRecord } from '../orchestrator/store/index.js';
import { runHpo } from './helpers/cli.js';
import { syntheticSpace } from './helpers/space.js';

/** Cells of a CSV without quoted fields (what these rows are). */
function parseCsv(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.split(','));
}

describe('leaderboard formats: exact in CSV and JSON, rounded for display only in tables', () => {
  it('hpo leaderboard --format csv round-trips every parameter and value of a real search exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hpo-board-'));
    const sweep = join(dir, 'syn.yaml');
    writeFileSync(
      sweep,
      [
        'method: random',
        'metric: {name: val_acc, goal: maximize}',
        'task: synthetic',
        'seed: 5',
        'run_cap: 8',
        'parameters:',
        '  x: {distribution: uniform, min: -2, max: 2}',
        '  rate: {distribution: log_uniform_values, min: 0.00001, max: 1}',
        '  width: {distribution: int_uniform, min: 100000, max: 999999}',
        '  mode: {values: [a, b, c]}',
        '  sleep_ms: {value: 1}',
        '  epochs: {value: 2}',
        '',
      ].join('\n'),
    );
    const db = join(dir, 'b.db');
    const search = await runHpo(['search', sweep, '--db', db, '--name', 'b', '--workers', '1']);
    assert.equal(search.code, 0, search.stderr);
    const csv = await runHpo(['leaderboard', 'b', '--db', db, '--format', 'csv', '--top', '100']);
    assert.equal(csv.code, 0, csv.stderr);
    const [head, ...rows] = parseCsv(csv.stdout);
    assert.deepEqual(head, [
      'rank',
      'trial',
      'state',
      'val_acc',
      'x',
      'rate',
      'width',
      'mode',
      'epochs_run',
      'worker',
    ]);
    assert.equal(rows.length, 8);
    const store = SqliteStore.open(db, { readonly: true });
    try {
      for (const row of rows) {
        const t = (await store.getTrial('b', row[1]))!;
        assert.equal(Number(row[3]), t.value, `val_acc of ${t.trial_id}`);
        assert.equal(Number(row[4]), t.params.x, `x of ${t.trial_id}`);
        assert.equal(Number(row[5]), t.params.rate, `rate of ${t.trial_id}`);
        assert.equal(Number(row[6]), t.params.width, `width of ${t.trial_id}`);
        assert.equal(row[7], t.params.mode);
      }
    } finally {
      await store.close();
    }
    const table = await runHpo(['leaderboard', 'b', '--db', db, '--top', '1']);
    assert.equal(table.code, 0, table.stderr);
    assert.doesNotMatch(table.stdout, /test_acc/, 'no test accuracy column for a task without one');
  });

  it('tables round to 6 significant digits, never fewer; CSV and JSON keep every digit', () => {
    const space = syntheticSpace({
      x: { kind: 'uniform', min: 0, max: 1 },
      width: { kind: 'int_uniform', min: 1, max: 999999 },
    });
    const row: TrialRecord = {
      experiment: 'e',
      trial_id: 't0',
      index: 0,
      params: { x: 0.123456789012, width: 102703 },
      seed: 0,
      state: 'completed',
      attempt: 1,
      worker: 'w',
      backend: null,
      created_at: 0,
      started_at: 0,
      ended_at: 1,
      value: 0.98765432101,
      metrics: { val_acc: 0.98765432101, test_acc: 0.5 },
      epochs: 1,
      error: null,
    };
    const table = renderLeaderboard({ space }, [row], 'table');
    assert.match(table, /0\.987654 /);
    assert.match(table, /0\.123457 /);
    assert.match(table, /102703 /);
    const md = renderLeaderboard({ space }, [row], 'markdown');
    assert.match(md, /\| 0\.987654 \| 0\.123457 \| 102703 \|/);
    const csv = renderLeaderboard({ space }, [row], 'csv');
    assert.match(csv, /,0\.98765432101,0\.123456789012,102703,/);
    const json = JSON.parse(renderLeaderboard({ space }, [row], 'json')) as { params: { x: number } }[];
    assert.equal(json[0].params.x, 0.123456789012);
  });

  it('every format shows the test accuracy a stopped trial reported, as JSON does (issue 25 item 7)', () => {
    const space = syntheticSpace({ x: { kind: 'uniform', min: 0, max: 1 } });
    const trial = (trial_id: string, state: TrialRecord['state'], test_acc: number): TrialRecord => ({
      experiment: 'e',
      trial_id,
      index: 0,
      params: { x: 0.5 },
      seed: 0,
      state,
      attempt: 1,
      worker: 'w',
      backend: null,
      created_at: 0,
      started_at: 0,
      ended_at: 1,
      value: 0.9,
      metrics: { val_acc: 0.9, test_acc },
      epochs: 1,
      error: null,
    });
    const rows = [trial('t0', 'completed', 0.8125), trial('t1', 'stopped', 0.4375)];
    const json = JSON.parse(renderLeaderboard({ space }, rows, 'json')) as {
      metrics: { test_acc: number };
    }[];
    assert.equal(json[1].metrics.test_acc, 0.4375);
    const table = renderLeaderboard({ space }, rows, 'table');
    const stoppedLine = table.split('\n').find((l) => l.includes('t1'));
    assert.match(stoppedLine ?? '', /0\.4375/, table);
    const csv = parseCsv(renderLeaderboard({ space }, rows, 'csv'));
    const col = csv[0].indexOf('test_acc');
    assert.equal(csv[2][col], '0.4375');
    assert.match(renderLeaderboard({ space }, rows, 'markdown'), /\| t1 \| stopped .*\| 0\.4375 \|/);
  });
});
