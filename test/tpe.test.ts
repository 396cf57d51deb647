import assert from 'node:assert/strict';
import type { TrialParams } from '../shared/protocol/index.js';
import { inSpace, type ParamSpec, type SearchSpace } from '../orchestrator/search-space/index.js';
import {
  configKey,
  type FinishedProposal,
  RandomStrategy,
  type Strategy,
  TpeStrategy,
} from '../orchestrator/strategies/index.js';
import { syntheticSpace } from './helpers/space.js';

function space(parameters: Record<string, ParamSpec>, extra: Partial<SearchSpace> = {}): SearchSpace {
  return syntheticSpace(parameters, { method: 'bayes', ...extra });
}

/** Sequential search: propose, evaluate, record; returns every proposal with its value. */
function run(strategy: Strategy, objective: (p: TrialParams) => number, n: number): FinishedProposal[] {
  const seen: TrialParams[] = [];
  const finished: FinishedProposal[] = [];
  for (let k = 0; k < n; k++) {
    const params = strategy.next({ proposed: k, seen, finished });
    if (!params) break;
    seen.push(params);
    finished.push({ params, value: objective(params), state: 'completed' });
  }
  return finished;
}

const best = (f: FinishedProposal[], sign = 1) => Math.max(...f.map((x) => sign * (x.value as number)));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const X01: Record<string, ParamSpec> = { x: { kind: 'uniform', min: 0, max: 1 } };
const peak = (p: TrialParams) => -(((p.x as number) - 0.8) ** 2);

describe('TPE (method: bayes)', () => {
  it('is deterministic in the seed and state; another seed proposes differently', () => {
    const a = run(new TpeStrategy(space(X01)), peak, 30).map((f) => f.params.x);
    const b = run(new TpeStrategy(space(X01)), peak, 30).map((f) => f.params.x);
    const c = run(new TpeStrategy(space(X01, { seed: 2 })), peak, 30).map((f) => f.params.x);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.slice(10), c.slice(10));
  });

  it("start-up: the first proposals are the random strategy's, then TPE takes over", () => {
    const s = space(X01);
    const tpe = run(new TpeStrategy(s, { startupTrials: 10 }), peak, 20).map((f) => f.params.x);
    const rnd = run(new RandomStrategy(s), peak, 20).map((f) => f.params.x);
    assert.deepEqual(tpe.slice(0, 10), rnd.slice(0, 10));
    assert.notDeepEqual(tpe.slice(10), rnd.slice(10));
  });

  it('concentrates on the good region of a 1-D objective (10 seeds, better than random)', () => {
    const dist = (f: FinishedProposal[]) =>
      mean(f.slice(20).map((x) => Math.abs((x.params.x as number) - 0.8)));
    const tpe: number[] = [];
    const rnd: number[] = [];
    const tpeBest: number[] = [];
    const rndBest: number[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const s = space(X01, { seed });
      const t = run(new TpeStrategy(s), peak, 50);
      const r = run(new RandomStrategy(s), peak, 50);
      tpe.push(dist(t));
      rnd.push(dist(r));
      tpeBest.push(best(t));
      rndBest.push(best(r));
    }
    // Random proposals sit 0.34 from 0.8 on average (uniform on [0, 1]); TPE's later ones much closer.
    assert.ok(mean(tpe) < 0.5 * mean(rnd), `TPE ${mean(tpe)} vs random ${mean(rnd)}`);
    assert.ok(mean(tpeBest) > mean(rndBest), `best: TPE ${mean(tpeBest)} vs random ${mean(rndBest)}`);
  });

  it('minimize: concentrates on the minimum', () => {
    const s = space(X01, { metric: { name: 'val_loss', goal: 'minimize' } });
    const f = run(new TpeStrategy(s), (p) => ((p.x as number) - 0.2) ** 2, 50);
    const late = mean(f.slice(20).map((x) => Math.abs((x.params.x as number) - 0.2)));
    assert.ok(late < 0.15, `mean distance from 0.2 after start-up: ${late}`);
  });

  it('categorical: picks the good value far more often than 1 in 8', () => {
    const values = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    // x keeps the space infinite (a finite space of 8 would run out of new configurations).
    const s = space({ c: { kind: 'categorical', values }, x: { kind: 'uniform', min: 0, max: 1 } });
    let hits = 0;
    let total = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const f = run(new TpeStrategy({ ...s, seed }), (p) => (p.c === 'f' ? 1 : 0), 40);
      for (const x of f.slice(15)) {
        total++;
        if (x.params.c === 'f') hits++;
      }
    }
    assert.ok(hits / total > 0.5, `'f' in ${hits}/${total} proposals after start-up`);
  });

  it('log-uniform and integer parameters: proposals stay in the space and find the optimum in log space', () => {
    const s = space({
      lr: { kind: 'log_uniform_values', min: 1e-6, max: 1 },
      units: { kind: 'int_uniform', min: 1, max: 512 },
      width: { kind: 'q_uniform', min: 16, max: 256, q: 16 },
      batch: { kind: 'q_log_uniform_values', min: 8, max: 1024, q: 8 },
      drop: { kind: 'uniform', min: 0, max: 0.5 },
      act: { kind: 'categorical', values: ['relu', 'tanh', true, 3] },
      epochs: { kind: 'constant', value: 5 },
    });
    const objective = (p: TrialParams) =>
      -Math.abs(Math.log10(p.lr as number) + 3) -
      Math.abs((p.units as number) - 400) / 100 -
      Math.abs((p.width as number) - 64) / 64 -
      Math.abs(Math.log2((p.batch as number) / 64));
    const seeds = [1, 2, 3, 4, 5];
    const lrTpe: number[] = [];
    const lrRnd: number[] = [];
    const bestTpe: number[] = [];
    const bestRnd: number[] = [];
    for (const seed of seeds) {
      const t = run(new TpeStrategy({ ...s, seed }), objective, 60);
      const r = run(new RandomStrategy({ ...s, seed }), objective, 60);
      for (const f of t) {
        assert.ok(inSpace(s, f.params), `not in the space: ${JSON.stringify(f.params)}`);
        assert.ok(Number.isInteger(f.params.units));
        assert.equal(((f.params.width as number) / 16) % 1, 0);
        assert.equal(((f.params.batch as number) / 8) % 1, 0);
        assert.equal(f.params.epochs, 5);
      }
      const lrErr = (f: FinishedProposal[]) =>
        mean(f.slice(30).map((x) => Math.abs(Math.log10(x.params.lr as number) + 3)));
      lrTpe.push(lrErr(t));
      lrRnd.push(lrErr(r));
      bestTpe.push(best(t));
      bestRnd.push(best(r));
    }
    assert.ok(mean(lrTpe) < 0.75 * mean(lrRnd), `|log10 lr + 3|: TPE ${mean(lrTpe)}, random ${mean(lrRnd)}`);
    assert.ok(mean(bestTpe) > mean(bestRnd), `best: TPE ${mean(bestTpe)}, random ${mean(bestRnd)}`);
  });

  it('pending trials do not stall it and count as bad (constant liar)', () => {
    const values = ['a', 'b', 'c', 'd'];
    const s = space({ c: { kind: 'categorical', values }, x: { kind: 'uniform', min: 0, max: 1 } });
    // 12 finished trials: c = a is best.
    const finished: FinishedProposal[] = [];
    for (let i = 0; i < 12; i++) {
      const c = values[i % 4];
      finished.push({ params: { c, x: i / 12 }, value: c === 'a' ? 1 : 0, state: 'completed' });
    }
    const seenFinished = finished.map((f) => f.params);
    const tpe = new TpeStrategy(s);
    const countA = (pending: TrialParams[]) => {
      let a = 0;
      for (let k = 0; k < 40; k++) {
        const params = tpe.next({
          proposed: 12 + pending.length + k,
          seen: [...seenFinished, ...pending],
          finished,
        });
        assert.ok(params, 'a proposal while trials are pending');
        if (params.c === 'a') a++;
      }
      return a;
    };
    const none = countA([]);
    // 30 trials of c = a still running: TPE treats them as bad and proposes a less often.
    const pending = Array.from({ length: 30 }, (_, i) => ({ c: 'a', x: i / 30 }));
    const withPending = countA(pending);
    assert.ok(none > 20, `without pending: a in ${none}/40`);
    assert.ok(withPending < none, `with 30 pending a's: ${withPending}/40, without: ${none}/40`);
  });

  it('ranks stopped trials below completed ones and by epochs reached', () => {
    const s = space({
      c: { kind: 'categorical', values: ['a', 'b', 'c'] },
      x: { kind: 'uniform', min: 0, max: 1 },
    });
    const finished: FinishedProposal[] = [];
    // a: completed with modest values; b: stopped early with high values (at 1 epoch); c: stopped later.
    for (let i = 0; i < 5; i++)
      finished.push({ params: { c: 'a', x: i / 5 }, value: 0.5, state: 'completed', epochs: 9 });
    for (let i = 0; i < 20; i++)
      finished.push({ params: { c: 'b', x: i / 20 }, value: 0.9, state: 'stopped', epochs: 1 });
    for (let i = 0; i < 5; i++)
      finished.push({ params: { c: 'c', x: i / 5 }, value: 0.3, state: 'stopped', epochs: 3 });
    const tpe = new TpeStrategy(s);
    const seen = finished.map((f) => f.params);
    const picks = new Map<string, number>();
    for (let k = 0; k < 30; k++) {
      const p = tpe.next({ proposed: 30 + k, seen, finished: finished.map((f) => ({ ...f })) })!;
      picks.set(String(p.c), (picks.get(String(p.c)) ?? 0) + 1);
    }
    // Good = the best ceil(0.1 * 30) = 3: all completed a's; b's high values at epoch 1 do not count.
    assert.ok((picks.get('a') ?? 0) > 15, `picks: ${JSON.stringify([...picks])}`);
  });

  it('finite spaces: never repeats a configuration, null when all are seen, null at run_cap', () => {
    const s = space({
      a: { kind: 'int_uniform', min: 1, max: 4 },
      b: { kind: 'categorical', values: [1, 2, 3] },
    });
    const f = run(new TpeStrategy(s), (p) => (p.a as number) * (p.b as number), 20);
    assert.equal(f.length, 12);
    assert.equal(new Set(f.map((x) => configKey(x.params))).size, 12);
    assert.equal(run(new TpeStrategy({ ...s, run_cap: 5 }), () => 0, 20).length, 5);
  });
});
