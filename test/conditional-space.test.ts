/**
 * Conditional spaces (`branches`): grid, random and TPE propose only active parameters; TPE models a
 * branch's parameters from the trials where that branch was active; the leaderboard leaves inactive
 * parameters empty. Also: time-budget status and the progress line's end text.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import { renderLeaderboard } from '../cli/leaderboard-format.js';
import { endText } from '../cli/progress-display.js';
import { statusAnswer } from '../orchestrator/api/query.js';
import type { SearchProgress } from '../orchestrator/core/index.js';
import { configAt, gridSize, inSpace, parseSearchSpace } from '../orchestrator/search-space/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { createStrategy, type FinishedProposal, TpeStrategy } from '../orchestrator/strategies/index.js';
import type { TrialParams } from '../shared/protocol/index.js';

const tasks = builtinTaskCatalog();
const parse = (text: string) => parseSearchSpace(text, { file: 'c.yaml', tasks });

const SPACE = (method: string) => `
method: ${method}
task: synthetic
run_cap: 200
parameters:
  opt:
    values: [sgd, adam, none]
    branches:
      sgd:
        lr: {distribution: log_uniform_values, min: 0.01, max: 1}
        momentum: {values: [0.0, 0.9]}
      adam:
        lr: {distribution: log_uniform_values, min: 0.00001, max: 0.001}
  width: {values: [8, 16]}
`;

/** The names a proposal must carry: its branch's and the unconditional ones, nothing else. */
function expectedNames(p: TrialParams): string[] {
  const branch = p.opt === 'sgd' ? ['lr', 'momentum'] : p.opt === 'adam' ? ['lr'] : [];
  return ['opt', ...branch, 'width', 'epochs', 'sleep_ms'].sort();
}

describe('conditional spaces (branches)', function () {
  this.timeout(60_000);

  it('grid enumerates each branch in place: sgd 2 + adam 1 + none 1, times 2 widths', () => {
    const space = parse(
      SPACE('grid')
        .replace(/lr: \{distribution: log_uniform_values, min: 0\.01, max: 1\}/, 'lr: {value: 0.1}')
        .replace(
          /lr: \{distribution: log_uniform_values, min: 0\.00001, max: 0\.001\}/,
          'lr: {values: [0.001, 0.0001]}',
        ),
    );
    assert.equal(gridSize(space), (2 + 2 + 1) * 2);
    const configs = Array.from({ length: 10 }, (_, i) => configAt(space, i));
    for (const c of configs) assert.deepEqual(Object.keys(c).sort(), expectedNames(c));
    assert.equal(new Set(configs.map((c) => JSON.stringify(c))).size, 10);
    const strategy = createStrategy(space);
    const seen: TrialParams[] = [];
    for (let i = 0; i < 10; i++) seen.push(strategy.next({ proposed: i, seen, finished: [] })!);
    assert.equal(strategy.next({ proposed: 10, seen, finished: [] }), null);
  });

  it('random and TPE propose only active parameters, inside their branch', () => {
    for (const method of ['random', 'bayes']) {
      const space = parse(SPACE(method));
      const strategy =
        method === 'bayes' ? new TpeStrategy(space, { startupTrials: 5 }) : createStrategy(space);
      const seen: TrialParams[] = [];
      const finished: FinishedProposal[] = [];
      for (let i = 0; i < 40; i++) {
        const p: TrialParams = strategy.next({ proposed: i, seen, finished })!;
        assert.deepEqual(Object.keys(p).sort(), expectedNames(p), JSON.stringify(p));
        assert.ok(inSpace(space, p), JSON.stringify(p));
        if (p.opt === 'adam') assert.ok((p.lr as number) <= 0.001);
        if (p.opt === 'sgd') assert.ok((p.lr as number) >= 0.01);
        seen.push(p);
        finished.push({
          params: p,
          value: p.opt === 'sgd' ? 1 - Math.abs(Math.log10(p.lr as number) + 1) : 0,
        });
      }
    }
  });

  it('TPE models a branch from the trials where it was active (sgd lr near 0.1 is good)', () => {
    const space = parse(SPACE('bayes'));
    const tpe = new TpeStrategy(space, { startupTrials: 10 });
    const seen: TrialParams[] = [];
    const finished: FinishedProposal[] = [];
    for (let i = 0; i < 80; i++) {
      const p: TrialParams = tpe.next({ proposed: i, seen, finished })!;
      seen.push(p);
      // Only sgd trials with lr close to 0.1 score well; the adam branch's lr never matters.
      const value = p.opt === 'sgd' ? 1 - Math.abs(Math.log10(p.lr as number) + 1) : 0;
      finished.push({ params: p, value });
    }
    const late = seen.slice(40);
    const sgd = late.filter((p) => p.opt === 'sgd');
    assert.ok(sgd.length > late.length / 2, `TPE favours the good branch: ${sgd.length}/${late.length} sgd`);
    const near = sgd.filter((p) => Math.abs(Math.log10(p.lr as number) + 1) < 0.5).length;
    assert.ok(near > sgd.length / 2, `${near}/${sgd.length} sgd proposals within half a decade of 0.1`);
  });

  it('a name repeated outside sibling branches, and a branch key that is not a value, are errors', () => {
    assert.throws(
      () =>
        parse(
          'method: random\ntask: synthetic\nparameters:\n  lr: {value: 1}\n  opt:\n    values: [a]\n    branches:\n      a: {lr: {value: 2}}\n',
        ),
      /parameters\.opt\.branches\.a\.lr: parameter lr is also defined at parameters\.lr/,
    );
    assert.throws(
      () =>
        parse(
          'method: random\ntask: synthetic\nparameters:\n  opt:\n    values: [a]\n    branches:\n      b: {x: {value: 2}}\n',
        ),
      /parameters\.opt\.branches\.b: expected one of the parameter's values \(a\)/,
    );
  });

  describe('with a SQLite file', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'hpo-conditional-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('the leaderboard shows inactive parameters as empty cells', async () => {
      const store = SqliteStore.open(join(dir, 'lb.db'));
      const space = parse(SPACE('random'));
      const exp = await store.createExperiment('c', space, 'test');
      const params: TrialParams[] = [
        { opt: 'sgd', lr: 0.1, momentum: 0.9, width: 8, epochs: 5, sleep_ms: 0 },
        { opt: 'none', width: 16, epochs: 5, sleep_ms: 0 },
      ];
      for (const [i, p] of params.entries()) {
        const id = `t${i}`;
        await store.addTrial('c', { trial_id: id, index: i, params: p, seed: i });
        await store.startTrial('c', id, 'w');
        await store.recordResult('c', id, {
          v: 1,
          experiment: 'c',
          trial_id: id,
          attempt: 1,
          state: 'completed',
          epochs: 5,
          metrics: { val_acc: 0.9 - i * 0.1 },
          worker: 'w',
          seconds: 1,
        } as never);
      }
      const csv = renderLeaderboard(exp, await store.leaderboard('c'), 'csv')
        .trim()
        .split('\n');
      const head = csv[0].split(',');
      const row = (n: number) => Object.fromEntries(csv[n].split(',').map((v, i) => [head[i], v]));
      assert.deepEqual([row(1).opt, row(1).lr, row(1).momentum], ['sgd', '0.1', '0.9']);
      assert.deepEqual([row(2).opt, row(2).lr, row(2).momentum], ['none', '', '']);
      await store.close();
    });

    it('hpo status: the time budget and the time left while the experiment runs', async () => {
      const store = SqliteStore.open(join(dir, 'budget.db'));
      await store.createExperiment('b', parse(SPACE('random')), 'test');
      await store.setExperimentStatus('b', 'running');
      const started = 1_700_000_000_000;
      await store.recordRun('b', {
        started_at: started,
        hpo_version: 'x',
        node_version: 'x',
        tfjs_version: 'x',
        backend_choice: 'cpu',
        workers: 'test',
        host: { cpu_model: 'x', cores: 1, memory_bytes: 1, os: 'x', arch: 'x' },
        time_budget: { seconds: 600, hard: false },
      });
      const answer = await statusAnswer(store, (await store.getExperiment('b'))!, () => started + 150_000);
      assert.deepEqual(answer.time_budget, {
        seconds: 600,
        hard: false,
        ends_at: new Date(started + 600_000).toISOString(),
        left_seconds: 450,
      });
      await store.setExperimentStatus('b', 'completed');
      assert.equal(
        (await statusAnswer(store, (await store.getExperiment('b'))!)).time_budget?.left_seconds,
        null,
      );
      await store.close();
    });
  });

  it('the progress line: time left, target reached, or "endless"; nothing extra with a known total', () => {
    const base: SearchProgress = {
      experiment: 'e',
      total: null,
      done: 1,
      completed: 1,
      stopped: 0,
      failed: 0,
      running: 1,
      queued: 0,
      best: null,
      deadline: null,
      target_reached: false,
      event: { kind: 'result' },
    };
    assert.match(endText(base)!, /^endless: no run_cap, time budget or finite grid/);
    assert.equal(endText({ ...base, total: 10 }), null);
    assert.equal(endText({ ...base, deadline: 1_000_000 + 125_000 }, 1_000_000), 'time left 2m05s');
    assert.match(endText({ ...base, deadline: 1 }, 1_000)!, /^time budget spent/);
    assert.match(endText({ ...base, target_reached: true })!, /^target reached/);
  });
});
