import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import {
  configAt,
  catalogFromTasks,
  gridSize,
  isFinite,
  loadSearchSpaceFile,
  parseSearchSpace,
  analyseSearchSpace,
  SearchSpaceError,
  type SearchSpace,
  type SearchSpaceIssue,
} from '../orchestrator/search-space/index.js';
import { UsageError } from '../shared/errors.js';
import { architectureNames } from '../worker/models/registry.js';

const tasks = builtinTaskCatalog();
const PRESETS = fileURLToPath(new URL('../../search-spaces/', import.meta.url));

function parse(text: string): SearchSpace {
  return parseSearchSpace(text, { file: 'test.yaml', tasks });
}

/** Parses `text`, expecting a SearchSpaceError; returns its issues and message. */
function fails(text: string): { issues: readonly SearchSpaceIssue[]; message: string } {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof SearchSpaceError, `expected a SearchSpaceError, got ${String(err)}`);
    assert.ok(err instanceof UsageError);
    return { issues: err.issues, message: err.message };
  }
  assert.fail('expected the search space to be rejected');
}

/** Expects an error at `path` whose message matches `message`. */
function failsAt(text: string, path: string, message: RegExp): SearchSpaceIssue[] {
  const { issues } = fails(text);
  const hit = issues.find((i) => i.path === path && message.test(i.message));
  assert.ok(
    hit,
    `no issue at ${path} matching ${message}; got:\n${issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`,
  );
  return [...issues];
}

const MNIST = 'method: random\ntask: multi-digit-mnist\nparameters:\n';

describe('search-space files', () => {
  describe('presets', () => {
    const load = (name: string) => loadSearchSpaceFile(`${PRESETS}${name}`, { tasks });

    it('quick.yaml: random, 6 trials of small MLPs', () => {
      const s = load('quick.yaml');
      assert.equal(s.method, 'random');
      assert.equal(s.task, 'multi-digit-mnist');
      assert.equal(s.run_cap, 6);
      assert.equal(gridSize(s), null, 'log-uniform learning rate: infinite space');
      assert.equal(isFinite(s), false);
      assert.deepEqual(s.parameters.arch, { kind: 'categorical', values: ['mlp', 'mlp_linear'] });
      assert.deepEqual(s.parameters.learning_rate, { kind: 'log_uniform_values', min: 0.0003, max: 0.003 });
      assert.deepEqual(s.parameters.epochs, { kind: 'constant', value: 2 });
      assert.deepEqual(s.parameters.train_size, { kind: 'constant', value: 3000 });
      assert.equal(s.defaulted, undefined, 'quick.yaml gives every parameter it uses');
    });

    it('seed-report.yaml: a 56-configuration grid over all seven architectures', () => {
      const s = load('seed-report.yaml');
      assert.equal(s.method, 'grid');
      assert.equal(gridSize(s), 7 * 2 * 2 * 2);
      assert.deepEqual(s.parameters.arch, { kind: 'categorical', values: architectureNames() });
    });

    it("seed-report-reduced.yaml: the report's 28 configurations, the rate tied to the optimizer", () => {
      const s = load('seed-report-reduced.yaml');
      assert.equal(s.method, 'grid');
      assert.equal(gridSize(s), 28);
      const configs = Array.from({ length: 28 }, (_, i) => configAt(s, i));
      for (const c of configs) {
        assert.equal(c.learning_rate, c.optimizer === 'sgd' ? 0.01 : 0.0001, JSON.stringify(c));
      }
      assert.equal(new Set(configs.map((c) => JSON.stringify(c))).size, 28);
      assert.deepEqual(
        architectureNames().map((a) => configs.filter((c) => c.arch === a).length),
        architectureNames().map(() => 4),
      );
    });

    it('full.yaml: random over everything, 100 trials', () => {
      const s = load('full.yaml');
      assert.equal(s.run_cap, 100);
      assert.equal(gridSize(s), null);
      assert.deepEqual(s.parameters.optimizer, {
        kind: 'categorical',
        values: ['sgd', 'momentum', 'adam', 'rmsprop'],
      });
    });

    it('synthetic.yaml: the synthetic task', () => {
      const s = load('synthetic.yaml');
      assert.equal(s.task, 'synthetic');
      assert.equal(s.run_cap, 20);
      assert.deepEqual(s.parameters.sleep_ms, { kind: 'constant', value: 50 });
    });

    it('every preset points editors at the schema', () => {
      for (const name of [
        'quick.yaml',
        'seed-report.yaml',
        'seed-report-reduced.yaml',
        'full.yaml',
        'synthetic.yaml',
      ]) {
        const first = readFileSync(`${PRESETS}${name}`, 'utf8').split('\n')[0];
        assert.equal(first, '# yaml-language-server: $schema=./sweep.schema.json', name);
      }
    });
  });

  describe('valid files', () => {
    it('fills defaults: metric, task, seeds, and the task parameters not given', () => {
      const s = parse(
        'method: grid\ntask: multi-digit-mnist\nparameters:\n  arch:\n    values: [mlp, cnn]\n',
      );
      assert.deepEqual(s.metric, { name: 'val_acc', goal: 'maximize' });
      assert.equal(s.task, 'multi-digit-mnist');
      assert.equal(s.seed, 1);
      assert.deepEqual(s.data, { seed: 1 });
      assert.deepEqual(Object.keys(s.parameters), [
        'arch',
        'optimizer',
        'learning_rate',
        'batch_size',
        'epochs',
      ]);
      assert.deepEqual(s.parameters.optimizer, { kind: 'constant', value: 'adam' });
      assert.deepEqual(s.parameters.learning_rate, { kind: 'constant', value: 0.001 });
      assert.deepEqual(s.defaulted, ['optimizer', 'learning_rate', 'batch_size', 'epochs']);
      assert.equal(gridSize(s), 2);
    });

    it('synthetic defaults epochs 5 and sleep_ms 0 and accepts any names', () => {
      const s = parse('method: random\ntask: synthetic\nparameters:\n  anything: {values: [1, 2]}\n');
      assert.deepEqual(s.parameters.epochs, { kind: 'constant', value: 5 });
      assert.deepEqual(s.parameters.sleep_ms, { kind: 'constant', value: 0 });
    });

    it('accepts every distribution and W&B keys it ignores', () => {
      const s = parse(
        [
          'name: my sweep',
          'program: train.py',
          'command: [python, train.py]',
          'project: p',
          'entity: e',
          'description: all of them',
          'method: random',
          'metric: {name: val_loss, goal: minimize}',
          'run_cap: 3',
          'seed: 7',
          'data: {seed: 9}',
          'early_terminate: {type: hyperband, min_iter: 2, eta: 3}',
          'task: synthetic',
          'parameters:',
          '  a: {distribution: constant, value: x}',
          '  b: {distribution: categorical, values: [1, two, true]}',
          '  c: {distribution: uniform, min: -1, max: 1}',
          '  d: {distribution: int_uniform, min: 1, max: 5}',
          '  e: {distribution: log_uniform_values, min: 0.001, max: 1}',
          '  f: {distribution: q_uniform, min: 0, max: 1, q: 0.25}',
          '  g: {distribution: q_log_uniform_values, min: 1, max: 1000, q: 10}',
        ].join('\n'),
      );
      assert.deepEqual(s.metric, { name: 'val_loss', goal: 'minimize' });
      assert.equal(s.seed, 7);
      assert.deepEqual(s.data, { seed: 9 });
      assert.deepEqual(s.early_terminate, { type: 'hyperband', min_iter: 2, eta: 3 });
      assert.equal(s.description, 'all of them');
      assert.deepEqual(s.parameters.b, { kind: 'categorical', values: [1, 'two', true] });
      assert.deepEqual(s.parameters.g, { kind: 'q_log_uniform_values', min: 1, max: 1000, q: 10 });
      assert.deepEqual(Object.keys(s.parameters).slice(0, 7), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    });

    it('min/max without a distribution: int_uniform for integers, uniform for floats (as written)', () => {
      const s = parse(
        'method: random\ntask: synthetic\nparameters:\n  a: {min: 1, max: 4}\n  b: {min: 1.0, max: 4}\n  c: {min: 0, max: 0.5}\n',
      );
      assert.deepEqual(s.parameters.a, { kind: 'int_uniform', min: 1, max: 4 });
      assert.deepEqual(s.parameters.b, { kind: 'uniform', min: 1, max: 4 });
      assert.deepEqual(s.parameters.c, { kind: 'uniform', min: 0, max: 0.5 });
    });

    it('grid enumerates int_uniform and the multiples of q', () => {
      const s = parse(
        'method: grid\nparameters:\n  batch_size: {distribution: q_uniform, min: 32, max: 128, q: 32}\n  epochs: {min: 1, max: 3}\n',
      );
      assert.equal(gridSize(s), 4 * 3);
      assert.equal(isFinite(s), true);
    });

    it('the parser takes its tasks from the catalogue it is given', () => {
      const only = catalogFromTasks({
        toy: { params: { n: { type: 'integer', ge: 0 } }, open: false, defaults: { n: 0 } },
      });
      const s = parseSearchSpace('method: random\ntask: toy\nparameters:\n  n: {values: [1, 2]}\n', {
        tasks: only,
      });
      assert.equal(s.task, 'toy');
      assert.throws(
        () =>
          parseSearchSpace('method: random\ntask: multi-digit-mnist\nparameters:\n  n: {value: 1}\n', {
            tasks: only,
          }),
        /task: expected one of toy, got "multi-digit-mnist"/,
      );
      assert.deepEqual(
        parseSearchSpace('method: random\ntask: toy\nparameters:\n  n: {value: 1}\n', {
          tasks: { names: () => ['toy'] },
        }).parameters,
        { n: { kind: 'constant', value: 1 } },
      );
    });
  });

  describe('bad files', () => {
    it('malformed YAML: the parser line and column', () => {
      const { issues, message } = fails(
        'method: grid\nparameters:\n  arch: {values: [mlp, cnn}\n  epochs: 1\n',
      );
      assert.ok(issues.length >= 1);
      assert.match(message, /^test\.yaml:\d+:\d+: invalid YAML at line \d+, column \d+: /);
      assert.ok(issues.every((i) => i.line !== undefined && i.line >= 3));
    });

    it('duplicate keys are a YAML error', () => {
      assert.match(fails('method: grid\nmethod: random\nparameters: {}\n').message, /line 2.*unique/);
    });

    it('an empty file', () => {
      failsAt('# nothing\n', '', /empty/);
    });

    it('unknown top-level key', () => {
      failsAt(
        MNIST + '  epochs: {value: 1}\nmetod: grid\n',
        'metod',
        /unknown key; expected one of method, metric,/,
      );
    });

    it('unknown key inside a parameter', () => {
      failsAt(MNIST + '  epochs: {value: 1, default: 2}\n', 'parameters.epochs.default', /unknown key/);
    });

    it('a key that does not fit the distribution', () => {
      failsAt(
        MNIST + '  epochs: {distribution: int_uniform, min: 1, max: 3, values: [1]}\n',
        'parameters.epochs.values',
        /not allowed with distribution int_uniform/,
      );
      failsAt(
        MNIST + '  epochs: {value: 1, values: [1]}\n',
        'parameters.epochs.values',
        /not allowed together with value/,
      );
    });

    it('unknown method', () => {
      failsAt(
        'method: gird\nparameters:\n  epochs: {value: 1}\n',
        'method',
        /^expected one of grid, random, bayes, got "gird"$/,
      );
    });

    it('missing method and parameters', () => {
      const { issues } = fails('task: synthetic\n');
      assert.deepEqual(issues.map((i) => i.path).sort(), ['method', 'parameters']);
    });

    it('unknown distribution', () => {
      failsAt(
        MNIST + '  learning_rate: {distribution: gaussian, min: 0, max: 1}\n',
        'parameters.learning_rate.distribution',
        /expected one of constant, categorical, uniform/,
      );
    });

    it('a parameter with no shape', () => {
      failsAt(
        MNIST + '  epochs: {}\n',
        'parameters.epochs',
        /expected value, values, min and max, distribution, or parameters/,
      );
    });

    it('empty values', () => {
      failsAt(MNIST + '  arch: {values: []}\n', 'parameters.arch.values', /non-empty list/);
    });

    it('duplicate values: accepted as W&B does, with a warning; each distinct value is kept once', () => {
      const { space, warnings } = analyseSearchSpace(
        MNIST +
          '  batch_size: {values: [32, 64, 32.0]}\n  arch: {values: [mlp, cnn2, mlp], probabilities: [0.25, 0.5, 0.25]}\n',
        { tasks },
      );
      assert.deepEqual(space.parameters.batch_size, { kind: 'categorical', values: [32, 64] });
      assert.deepEqual(space.parameters.arch, {
        kind: 'categorical',
        values: ['mlp', 'cnn2'],
        probabilities: [0.5, 0.5],
      });
      const w = warnings.find((x) => x.path === 'parameters.batch_size.values[2]');
      assert.ok(w, JSON.stringify(warnings));
      assert.match(w.message, /duplicate of parameters\.batch_size\.values\[0\] \(32\): W&B accepts it/);
      assert.equal(w.line, 4);
      assert.ok(
        warnings.some(
          (x) => x.path === 'parameters.arch.values[2]' && /probabilities add up/.test(x.message),
        ),
      );
    });

    it('min > max', () => {
      failsAt(
        MNIST + '  learning_rate: {distribution: uniform, min: 0.1, max: 0.01}\n',
        'parameters.learning_rate.min',
        /expected a number <= max \(0\.01\), got 0\.1/,
      );
    });

    it('a log distribution with min <= 0', () => {
      failsAt(
        MNIST + '  learning_rate: {distribution: log_uniform_values, min: 0, max: 0.1}\n',
        'parameters.learning_rate.min',
        /expected a number > 0/,
      );
      failsAt(
        MNIST + '  batch_size: {distribution: q_log_uniform_values, min: -4, max: 64, q: 4}\n',
        'parameters.batch_size.min',
        /expected a number > 0/,
      );
    });

    it('q <= 0, and a q with no multiple in range', () => {
      failsAt(
        MNIST + '  batch_size: {distribution: q_uniform, min: 16, max: 64, q: 0}\n',
        'parameters.batch_size.q',
        /expected a number > 0, got 0/,
      );
      failsAt(
        MNIST + '  batch_size: {distribution: q_uniform, min: 17, max: 31, q: 16}\n',
        'parameters.batch_size.q',
        /multiple in \[min, max\]/,
      );
    });

    it('int_uniform needs integers', () => {
      failsAt(
        MNIST + '  epochs: {distribution: int_uniform, min: 1.5, max: 3}\n',
        'parameters.epochs.min',
        /expected an integer, got 1\.5/,
      );
    });

    it('an unknown architecture in values', () => {
      failsAt(
        MNIST + '  arch: {values: [mlp, resnet]}\n',
        'parameters.arch.values[1]',
        /expected one of mlp, mlp_linear, cnn, .*, got "resnet"/,
      );
    });

    it('an unknown optimizer', () => {
      failsAt(
        MNIST + '  optimizer: {value: adamw}\n',
        'parameters.optimizer.value',
        /expected one of sgd, momentum, adam, rmsprop, got "adamw"/,
      );
    });

    it('a negative learning rate in values', () => {
      failsAt(
        MNIST + '  learning_rate: {values: [0.01, -0.1]}\n',
        'parameters.learning_rate.values[1]',
        /^expected a number > 0, got -0\.1$/,
      );
    });

    it('mnist integer parameters and ranges', () => {
      failsAt(
        MNIST + '  batch_size: {values: [32, 64.5]}\n',
        'parameters.batch_size.values[1]',
        /expected an integer > 0/,
      );
      failsAt(
        MNIST + '  batch_size: {distribution: uniform, min: 16, max: 64}\n',
        'parameters.batch_size.distribution',
        /takes integers/,
      );
      failsAt(MNIST + '  train_size: {value: 50000}\n', 'parameters.train_size.value', /<= 36000/);
      failsAt(
        MNIST + '  arch: {distribution: int_uniform, min: 1, max: 2}\n',
        'parameters.arch',
        /expected value or values/,
      );
    });

    it('synthetic checks epochs and sleep_ms', () => {
      const base = 'method: random\ntask: synthetic\nparameters:\n';
      failsAt(base + '  epochs: {value: 0}\n', 'parameters.epochs.value', /expected an integer > 0/);
      failsAt(
        base + '  sleep_ms: {values: [10, -1]}\n',
        'parameters.sleep_ms.values[1]',
        /expected a number >= 0/,
      );
    });

    it('a grid over a continuous distribution names the parameter', () => {
      failsAt(
        'method: grid\nparameters:\n  learning_rate: {distribution: log_uniform_values, min: 0.0001, max: 0.1}\n',
        'parameters.learning_rate.distribution',
        /method grid needs a finite parameter.*log_uniform_values is continuous/,
      );
      failsAt(
        'method: grid\nparameters:\n  learning_rate: {min: 0.0001, max: 0.1}\n',
        'parameters.learning_rate',
        /method grid needs a finite parameter.*uniform is continuous/,
      );
    });

    it('unknown task', () => {
      failsAt(
        'method: random\ntask: mnist\nparameters:\n  x: {value: 1}\n',
        'task',
        /^expected one of multi-digit-mnist, synthetic, got "mnist"$/,
      );
    });

    it('an unknown parameter for multi-digit-mnist', () => {
      failsAt(
        MNIST + '  lr: {value: 0.01}\n',
        'parameters.lr',
        /unknown parameter for task multi-digit-mnist; expected one of arch, optimizer, learning_rate, batch_size, epochs, train_size/,
      );
    });

    it('an unknown metric for the task, and a metric without goal', () => {
      failsAt(
        MNIST + '  epochs: {value: 1}\nmetric: {name: accuracy, goal: maximize}\n',
        'metric.name',
        /expected a metric task multi-digit-mnist reports \(one of val_acc,/,
      );
    });

    it('a metric without goal minimizes, as in W&B, with a warning', () => {
      const { space, warnings } = analyseSearchSpace(
        MNIST + '  epochs: {value: 1}\nmetric: {name: val_loss}\n',
        {
          tasks: builtinTaskCatalog(),
        },
      );
      assert.deepEqual(space.metric, { name: 'val_loss', goal: 'minimize' });
      assert.ok(warnings.some((w) => w.path === 'metric' && /minimize/.test(w.message)));
    });

    it('run_cap 0, and seeds out of range', () => {
      failsAt(MNIST + '  epochs: {value: 1}\nrun_cap: 0\n', 'run_cap', /^expected an integer > 0, got 0$/);
      failsAt(MNIST + '  epochs: {value: 1}\nseed: -1\n', 'seed', /expected an integer >= 0, got -1/);
      failsAt(
        MNIST + '  epochs: {value: 1}\ndata: {seed: 1.5}\n',
        'data.seed',
        /expected an integer, got 1\.5/,
      );
    });

    it('early_terminate', () => {
      failsAt(
        MNIST + '  epochs: {value: 1}\nearly_terminate: {type: asha, min_iter: 1}\n',
        'early_terminate.type',
        /expected one of hyperband, median, got "asha"/,
      );
      failsAt(
        MNIST + '  epochs: {value: 1}\nearly_terminate: {type: median, min_iter: 1}\n',
        'early_terminate.min_iter',
        /^not allowed with type median$/,
      );
      failsAt(
        MNIST + '  epochs: {value: 9}\nearly_terminate: {type: hyperband, min_iter: 1, grace_epochs: 2}\n',
        'early_terminate.grace_epochs',
        /^not allowed with type hyperband$/,
      );
      failsAt(
        MNIST + '  epochs: {value: 9}\nearly_terminate: {type: median, grace_epochs: -1}\n',
        'early_terminate.grace_epochs',
        /expected an integer >= 0, got -1/,
      );
      failsAt(
        MNIST + '  epochs: {value: 9}\nearly_terminate: {type: median, min_trials: 0}\n',
        'early_terminate.min_trials',
        /expected an integer > 0, got 0/,
      );
      failsAt(
        MNIST + '  epochs: {value: 9}\nearly_terminate: {type: hyperband, min_iter: 1, eta: 1}\n',
        'early_terminate.eta',
        /expected a number > 1, got 1/,
      );
      failsAt(
        MNIST + '  epochs: {values: [3, 9]}\nearly_terminate: {type: hyperband, min_iter: 1, max_iter: 27}\n',
        'early_terminate.max_iter',
        /expected at most the trials' epochs \(parameters.epochs, up to 9\), got 27/,
      );
      // multi-digit-mnist's default epochs is 10.
      failsAt(
        MNIST + '  arch: {value: mlp}\nearly_terminate: {type: hyperband, min_iter: 11}\n',
        'early_terminate.min_iter',
        /expected at most the trials' epochs \(parameters.epochs, up to 10\), got 11/,
      );
      failsAt(
        MNIST + '  epochs: {value: 9}\nearly_terminate: {type: hyperband, min_iter: 1, max_iter: 9, s: 3}\n',
        'early_terminate.s',
        /expected brackets that each have a rung below max_iter \(9\)/,
      );
      failsAt(
        MNIST + '  epochs: {value: 1}\nearly_terminate: {type: hyperband}\n',
        'early_terminate',
        /expected min_iter or max_iter/,
      );
      failsAt(
        MNIST + '  epochs: {value: 1}\nearly_terminate: {type: hyperband, min_iter: 5, max_iter: 3}\n',
        'early_terminate.min_iter',
        /<= max_iter/,
      );
    });

    it('early_terminate median (an hpo extension) parses with its keys', () => {
      const s = parse(
        'method: bayes\ntask: synthetic\nparameters:\n  x: {min: 0.0, max: 1.0}\n' +
          'early_terminate: {type: median, grace_epochs: 2, min_trials: 4}\n',
      );
      assert.deepEqual(s.early_terminate, { type: 'median', grace_epochs: 2, min_trials: 4 });
    });

    it('a test metric as the objective', () => {
      failsAt(
        MNIST + '  epochs: {value: 1}\nmetric: {name: test_acc, goal: maximize}\n',
        'metric.name',
        /expected a validation metric: test metrics never drive selection or early stopping/,
      );
    });

    it('reports several errors together, one per line, prefixed with the file name and line', () => {
      const text = [
        'method: gird',
        'run_cap: 0',
        'parameters:',
        '  arch: {values: [mlp, resnet]}',
        '  learning_rate: {distribution: log_uniform_values, min: 0, max: 0.1}',
        '  dropout: {value: 0.5}',
        'colour: blue',
        'task: multi-digit-mnist',
      ].join('\n');
      const { issues, message } = fails(text);
      assert.deepEqual(
        issues.map((i) => i.path),
        [
          'method',
          'run_cap',
          'parameters.arch.values[1]',
          'parameters.learning_rate.min',
          'parameters.dropout',
          'colour',
        ],
      );
      const lines = message.split('\n');
      assert.equal(lines.length, issues.length);
      assert.deepEqual(
        lines.map((l) => l.split(':').slice(0, 2).join(':')),
        ['test.yaml:1', 'test.yaml:2', 'test.yaml:4', 'test.yaml:5', 'test.yaml:6', 'test.yaml:7'],
      );
      assert.equal(lines[0], 'test.yaml:1: method: expected one of grid, random, bayes, got "gird"');
    });

    it('a missing file is a UsageError naming it', () => {
      assert.throws(
        () => loadSearchSpaceFile('/nonexistent/space.yaml', { tasks }),
        (err: unknown) =>
          err instanceof UsageError && /\/nonexistent\/space\.yaml: no such file/.test(err.message),
      );
    });
  });
});
