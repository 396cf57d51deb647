/**
 * W&B's documented sweep constructs, one fixture each (test/fixtures/wandb/, written from W&B's
 * sweep-configuration documentation): hpo accepts every one with W&B's meaning, and `hpo validate` /
 * `hpo search --dry-run` work on them as real processes.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import {
  analyseSearchSpace,
  configAt,
  gridSize,
  inSpace,
  type AnalysedSearchSpace,
  type ParamSpec,
} from '../orchestrator/search-space/index.js';
import { createStrategy } from '../orchestrator/strategies/index.js';
import type { TrialParams } from '../shared/protocol/index.js';
import { runHpo } from './helpers/cli.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/wandb/', import.meta.url));
const tasks = builtinTaskCatalog();
const load = (name: string): AnalysedSearchSpace =>
  analyseSearchSpace(readFileSync(join(DIR, name), 'utf8'), { file: name, tasks });
const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/** What each fixture must mean (W&B's meaning), beyond being accepted. */
const MEANING: Record<string, (r: AnalysedSearchSpace) => void> = {
  'basic-random.yaml': ({ space }) => {
    assert.equal(space.parameters.learning_rate.kind, 'uniform');
    assert.deepEqual(space.parameters.optimizer, { kind: 'categorical', values: ['adam', 'sgd'] });
  },
  'grid-values.yaml': ({ space }) => assert.equal(gridSize(space), 6),
  'bayes.yaml': ({ space }) => assert.equal(space.method, 'bayes'),
  'metric-without-goal.yaml': ({ space, warnings }) => {
    assert.equal(space.metric.goal, 'minimize');
    assert.ok(warnings.some((w) => w.path === 'metric'));
  },
  'metric-target.yaml': ({ space }) => assert.equal(space.metric.target, 0.9),
  'top-level-keys.yaml': ({ space, warnings }) => {
    assert.equal(space.run_cap, 10);
    assert.equal(space.description, 'every top-level key');
    const ignored = warnings.find((w) => /ignored by hpo/.test(w.message));
    assert.ok(ignored && /entity/.test(ignored.message) && /project/.test(ignored.message));
  },
  'constant.yaml': ({ space }) =>
    assert.deepEqual(space.parameters.activation, { kind: 'constant', value: 'relu' }),
  'categorical-probabilities.yaml': ({ space }) => {
    const spec = space.parameters.optimizer as Extract<ParamSpec, { kind: 'categorical' }>;
    assert.deepEqual(spec.probabilities, [0.5, 0.3, 0.2]);
  },
  'int-uniform.yaml': ({ space }) => {
    assert.deepEqual(space.parameters.layers, { kind: 'int_uniform', min: 1, max: 4 });
    assert.deepEqual(space.parameters.units, { kind: 'int_uniform', min: 32, max: 256 });
  },
  'uniform.yaml': ({ space }) =>
    assert.deepEqual(space.parameters.momentum, { kind: 'uniform', min: 0.5, max: 0.99 }),
  'q-uniform.yaml': ({ space }) => {
    assert.deepEqual(space.parameters.depth, { kind: 'q_uniform', min: 1, max: 5, q: 1 }, 'q defaults to 1');
    assert.equal(gridSize(space), 8 * 5);
  },
  'log-uniform.yaml': ({ space }) => {
    const s = space.parameters.learning_rate as { kind: string; min: number; max: number };
    assert.equal(s.kind, 'log_uniform_values');
    assert.ok(near(s.min, Math.exp(-9.21)) && near(s.max, Math.exp(-2.3)), 'natural-log bounds');
  },
  'log-uniform-values.yaml': ({ space }) =>
    assert.deepEqual(space.parameters.learning_rate, { kind: 'log_uniform_values', min: 0.0001, max: 0.1 }),
  'q-log-uniform.yaml': ({ space }) => {
    const s = space.parameters.batch_size as { kind: string; min: number; max: number; q: number };
    assert.equal(s.kind, 'q_log_uniform_values');
    assert.ok(near(s.min, Math.exp(2.77)) && s.q === 8);
  },
  'q-log-uniform-values.yaml': ({ space }) =>
    assert.deepEqual(space.parameters.hidden, { kind: 'q_log_uniform_values', min: 16, max: 512, q: 1 }),
  'inv-log-uniform.yaml': ({ space }) => {
    const s = space.parameters.weight_decay as { min: number; max: number };
    assert.ok(near(s.min, Math.exp(-9.2)) && near(s.max, Math.exp(-2.3)), 'ln(1/X) in [min, max]');
  },
  'inv-log-uniform-values.yaml': ({ space }) => {
    const s = space.parameters.weight_decay as { min: number; max: number };
    assert.deepEqual([s.min, s.max], [0.0001, 0.1]);
  },
  'normal.yaml': ({ space }) => {
    assert.deepEqual(space.parameters.shift, { kind: 'normal', mu: 0.5, sigma: 0.1 });
    assert.deepEqual(space.parameters.noise, { kind: 'normal', mu: 0, sigma: 1 }, 'mu 0, sigma 1 by default');
  },
  'q-normal.yaml': ({ space }) =>
    assert.deepEqual(space.parameters.offset, { kind: 'q_normal', mu: 10, sigma: 3, q: 2 }),
  'log-normal.yaml': ({ space }) =>
    assert.deepEqual(space.parameters.scale, { kind: 'log_normal', mu: -2, sigma: 0.5 }),
  'q-log-normal.yaml': ({ space }) =>
    assert.deepEqual(space.parameters.units, { kind: 'q_log_normal', mu: 4, sigma: 0.5, q: 4 }),
  'nested-parameters.yaml': ({ space, warnings }) => {
    assert.ok('optimizer.learning_rate' in space.parameters && 'optimizer.momentum' in space.parameters);
    assert.ok(warnings.some((w) => /flattened/.test(w.message)));
  },
  'list-and-mapping-values.yaml': ({ space }) => {
    assert.equal(gridSize(space), 4);
    assert.deepEqual(configAt(space, 3).schedule, { type: 'cosine' });
    assert.deepEqual(configAt(space, 3).layer_sizes, [128, 64, 32]);
    assert.deepEqual(configAt(space, 0).extra, { seed_offset: 1, tags: ['a', 'b'] });
  },
  'value-null.yaml': ({ space }) => {
    assert.deepEqual(space.parameters.checkpoint, { kind: 'constant', value: null });
    assert.equal(configAt(space, 0).clip_norm, null);
  },
  'hyperband-min-iter.yaml': ({ space, warnings }) => {
    assert.equal(space.early_terminate?.type, 'hyperband');
    assert.equal(warnings.length, 0, 'min_iter 3, eta 3: the same rungs as W&B (3, 9)');
  },
  'hyperband-max-iter.yaml': ({ warnings }) => {
    const w = warnings.find((x) => x.path === 'early_terminate');
    assert.ok(w, 'the bracket layout differs: warned');
    assert.match(w.message, /W&B would check runs at epochs 3, 9/);
  },
  'hyperband-strict.yaml': ({ warnings }) =>
    assert.ok(warnings.some((w) => w.path === 'early_terminate.strict')),
};

describe('W&B sweep fixtures (test/fixtures/wandb/)', function () {
  this.timeout(180_000);
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

  it('one fixture per documented construct, each with its expected meaning', () => {
    assert.deepEqual(files.sort(), Object.keys(MEANING).sort());
  });

  for (const file of Object.keys(MEANING)) {
    it(`${file}: accepted with W&B's meaning; its first proposals lie in the space`, () => {
      const result = load(file);
      MEANING[file](result);
      const strategy = createStrategy(result.space);
      const seen: TrialParams[] = [];
      for (let i = 0; i < 3; i++) {
        const p = strategy.next({ proposed: i, seen, finished: [] });
        if (!p) break;
        assert.ok(inSpace(result.space, p), JSON.stringify(p));
        seen.push(p);
      }
      assert.ok(seen.length > 0);
    });
  }

  describe('the CLI (real processes)', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'hpo-validate-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('hpo validate: exit 0, the task, the normalised space, the grid size and the warnings', async () => {
      const r = await runHpo(['validate', join(DIR, 'hyperband-max-iter.yaml')]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /: valid\n/);
      assert.match(r.stdout, /^task: synthetic$/m);
      assert.match(r.stdout, /^grid size: infinite/m);
      assert.match(r.stdout, /^ {2}x: uniform \[0, 1\]$/m);
      assert.match(
        r.stdout,
        /hyperband-max-iter\.yaml:\d+: early_terminate: hpo's hyperband \(ASHA\) differs/,
      );
    });

    it('hpo validate: exit 2 with every problem at once, as file:line: path', async () => {
      const file = join(dir, 'bad.yaml');
      await writeFile(
        file,
        [
          'method: grid',
          'task: synthetic',
          'parameters:',
          '  a: {distribution: gaussian}',
          '  b: {min: 2, max: 1}',
          '  c: {distribution: uniform, min: 0, max: 1}',
          '  d: {values: [x, y], branches: {z: {e: {value: 1}}}}',
          '',
        ].join('\n'),
      );
      const r = await runHpo(['validate', file]);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /bad\.yaml:4: parameters\.a\.distribution: expected one of constant, categorical/,
      );
      assert.match(r.stderr, /bad\.yaml:5: parameters\.b\.min: expected a number <= max \(1\), got 2/);
      assert.match(
        r.stderr,
        /bad\.yaml:6: parameters\.c\.distribution: method grid needs a finite parameter/,
      );
      assert.match(
        r.stderr,
        /bad\.yaml:7: parameters\.d\.branches\.z: expected one of the parameter's values/,
      );
      const missing = join(dir, 'missing.yaml');
      await writeFile(missing, 'method: random\n');
      const m = await runHpo(['validate', missing]);
      assert.equal(m.code, 2);
      assert.match(m.stderr, /missing\.yaml:1: parameters: is required/);
    });

    it('a grid over --max-grid: exit 2 with the count (validate and search)', async () => {
      const file = join(dir, 'big.yaml');
      await writeFile(
        file,
        'method: grid\ntask: synthetic\nparameters:\n  a: {min: 1, max: 500}\n  b: {min: 1, max: 500}\n',
      );
      const v = await runHpo(['validate', file]);
      assert.equal(v.code, 2);
      assert.match(
        v.stderr,
        /the grid has 250000 configurations, more than the limit of 100000 \(--max-grid\)/,
      );
      const db = join(dir, 'big.db');
      const s = await runHpo(['search', file, '--db', db, '--max-grid', '1000']);
      assert.equal(s.code, 2);
      assert.match(s.stderr, /the grid has 250000 configurations, more than the limit of 1000/);
      assert.equal(existsSync(db), false, 'nothing was created');
      const ok = await runHpo(['validate', file, '--max-grid', '250000']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^grid size: 250000 configurations$/m);
    });

    it('hpo search --dry-run N: the summary and the first N proposals, nothing run or stored', async () => {
      const db = join(dir, 'dry.db');
      const r = await runHpo([
        'search',
        join(DIR, 'list-and-mapping-values.yaml'),
        '--dry-run',
        '3',
        '--db',
        db,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^grid size: 4 configurations$/m);
      const lines = r.stdout.split('\n').filter((l) => /^ {2}\d+: \{/.test(l));
      assert.equal(lines.length, 3);
      assert.deepEqual(JSON.parse(lines[2].replace(/^ {2}3: /, '')).schedule, { type: 'step', every: 2 });
      assert.equal(existsSync(db), false);
    });
  });
});
