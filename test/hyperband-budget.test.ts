/**
 * Issue 25 item 3: a hyperband layout whose budget surprises is said in plain words at validation: a
 * max_iter below the trials' epochs (every trial stopped there, none completes), rungs that all lie at
 * or after the trials' last epoch (nothing is ever stopped early).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import { analyseSearchSpace } from '../orchestrator/search-space/index.js';
import { runHpo } from './helpers/cli.js';

const tasks = builtinTaskCatalog();

const sweep = (earlyTerminate: string, epochs: string) =>
  [
    'method: random',
    'task: synthetic',
    'metric: {name: val_acc, goal: maximize}',
    `early_terminate: ${earlyTerminate}`,
    'parameters:',
    '  x: {min: 0.0, max: 1.0}',
    `  epochs: ${epochs}`,
    '',
  ].join('\n');

const warningsOf = (text: string) => analyseSearchSpace(text, { tasks }).warnings;

describe('hyperband budgets said in plain words (issue 25 item 3)', () => {
  it('max_iter 3 below epochs 4: every trial is stopped at epoch 3 and none completes', () => {
    const w = warningsOf(sweep('{type: hyperband, max_iter: 3}', '{value: 4}'));
    const cap = w.find((x) => x.path === 'early_terminate.max_iter');
    assert.ok(cap, JSON.stringify(w));
    assert.match(cap.message, /every trial is stopped at epoch 3 \(max_iter\) although it asks for 4 epochs/);
    assert.match(cap.message, /none completes/);
    assert.match(cap.message, /set max_iter to 4/);
    assert.ok(!w.some((x) => /epochs none/.test(x.message)), 'no "W&B would check runs at epochs none"');
  });

  it('epochs 2 or 6 with max_iter 3: the longer trials are stopped at epoch 3', () => {
    const w = warningsOf(sweep('{type: hyperband, min_iter: 1, max_iter: 3}', '{values: [2, 6]}'));
    const cap = w.find((x) => x.path === 'early_terminate.max_iter');
    assert.ok(cap, JSON.stringify(w));
    assert.match(
      cap.message,
      /trials with more than 3 epochs are stopped at epoch 3 \(max_iter\) and never complete/,
    );
  });

  it('a first rung at the last epoch: hyperband never stops a trial early', () => {
    const w = warningsOf(sweep('{type: hyperband, min_iter: 3}', '{value: 3}'));
    assert.ok(
      w.some((x) => x.path === 'early_terminate' && /never stops a trial early/.test(x.message)),
      JSON.stringify(w),
    );
  });

  it('s brackets whose first rung is at the last epoch: their share of trials is never stopped early', () => {
    // eta 3, min_iter 1, s 3: brackets 0, 1, 2 start at epochs 1, 3, 9.
    const w = warningsOf(sweep('{type: hyperband, min_iter: 1, max_iter: 27, s: 3}', '{values: [9, 27]}'));
    assert.ok(
      !w.some((x) => /never stop/.test(x.message)),
      'with 27 epochs, bracket 2 has rungs 9 before it',
    );
    const nine = warningsOf(sweep('{type: hyperband, min_iter: 1, s: 3}', '{value: 9}'));
    const idle = nine.find((x) => x.path === 'early_terminate.s');
    assert.ok(idle, JSON.stringify(nine));
    assert.match(
      idle.message,
      /^bracket 2 of 3 has no rung before the trials' last epoch \(epochs 9\): 1 in 3 trials .* are never stopped early$/,
    );
  });

  it('epochs = max_iter with rungs before it: no budget warning', () => {
    const w = warningsOf(sweep('{type: hyperband, min_iter: 1, max_iter: 9, eta: 3}', '{value: 9}'));
    assert.ok(!w.some((x) => /stopped at epoch|never stops/.test(x.message)), JSON.stringify(w));
  });

  it('hpo validate: exit 0, the warning with its file line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hpo-budget-'));
    try {
      const file = join(dir, 'cap.yaml');
      await writeFile(file, sweep('{type: hyperband, max_iter: 3}', '{value: 4}'));
      const r = await runHpo(['validate', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /cap\.yaml:4: early_terminate\.max_iter: every trial is stopped at epoch 3/);
      assert.match(r.stdout, /W&B needs s with max_iter/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
