import assert from 'node:assert/strict';
import {
  buildReportTable,
  formatPair,
  formatPercentPair,
  matchReference,
  type ReferenceRow,
  SEED_REPORT_REFERENCE,
  type TableTrial,
} from '../orchestrator/report/index.js';

function trial(
  id: string,
  params: Partial<Record<'arch' | 'optimizer' | 'learning_rate' | 'batch_size', string | number>>,
  value: number | null,
  metrics: Record<string, number> = {},
  state = 'completed',
): TableTrial {
  return {
    experiment: 'e',
    trial_id: id,
    state,
    params: { arch: 'cnn', optimizer: 'sgd', learning_rate: 0.01, batch_size: 64, epochs: 3, ...params },
    value,
    metrics: {
      train_acc_top: 0.881,
      train_acc_bottom: 0.804,
      test_acc_top: 0.874,
      test_acc_bottom: 0.795,
      ...metrics,
    },
    epochs: 3,
  };
}

const REF: ReferenceRow[] = [
  {
    arch: 'cnn',
    optimizer: 'sgd',
    learning_rate: 0.01,
    batch_size: 64,
    epochs: 10,
    train: [88, 80],
    test: [87, 80],
    quote: 'a',
  },
  {
    arch: 'cnn',
    optimizer: 'sgd',
    learning_rate: 0.01,
    batch_size: 32,
    epochs: 10,
    train: [98, 88],
    test: [97, 88],
    quote: 'b',
  },
  {
    arch: 'mlp',
    optimizer: 'sgd',
    learning_rate: 0.01,
    batch_size: null,
    epochs: 10,
    train: [84, 83],
    test: [83, 82],
    quote: 'c',
  },
];

describe("report table: the seed report's rows rebuilt from trials", () => {
  it('formats accuracy pairs in the report\'s style "(top %, bottom %)"', () => {
    assert.equal(formatPair([0.881, 0.795]), '(88%, 80%)');
    assert.equal(formatPair([1, 0.004]), '(100%, 0%)');
    assert.equal(formatPair(null), '-');
    assert.equal(formatPercentPair([83, 82]), '(83%, 82%)');
  });

  it('one row per arch/optimizer/lr/batch with train and test pairs, and the matching reference row', () => {
    const rows = buildReportTable([trial('t0', {}, 0.8), trial('t1', { batch_size: 32 }, 0.85)], REF, {
      goal: 'maximize',
    });
    assert.equal(rows.length, 2);
    assert.deepEqual(
      rows.map((r) => [r.batch_size, r.trial_id, formatPair(r.train), formatPair(r.test)]),
      [
        [32, 't1', '(88%, 80%)', '(87%, 80%)'],
        [64, 't0', '(88%, 80%)', '(87%, 80%)'],
      ],
    );
    assert.deepEqual(
      rows.map((r) => r.reference.map((x) => x.quote)),
      [['b'], ['a']],
    );
  });

  it('an unstated reference batch size matches every batch; a different rate or optimizer matches nothing', () => {
    const row = { arch: 'mlp', optimizer: 'sgd', learning_rate: 0.01 };
    assert.deepEqual(
      matchReference({ ...row, batch_size: 32 }, REF).map((r) => r.quote),
      ['c'],
    );
    assert.deepEqual(
      matchReference({ ...row, batch_size: 128 }, REF).map((r) => r.quote),
      ['c'],
    );
    assert.deepEqual(matchReference({ ...row, learning_rate: 0.001, batch_size: 32 }, REF), []);
    assert.deepEqual(matchReference({ ...row, optimizer: 'adam', batch_size: 32 }, REF), []);
    assert.deepEqual(matchReference({ ...row, arch: 'cnn', batch_size: 128 }, REF), []);
  });

  it('when trials share a configuration, the row shows the best by the validation objective, never by test', () => {
    const better = trial('t0', {}, 0.9, { test_acc_top: 0.5, test_acc_bottom: 0.5 });
    const worseValBetterTest = trial('t1', {}, 0.7, { test_acc_top: 0.99, test_acc_bottom: 0.99 });
    const [max] = buildReportTable([worseValBetterTest, better], REF, { goal: 'maximize' });
    assert.equal(max.trial_id, 't0');
    assert.equal(max.trials, 2);
    const [min] = buildReportTable([worseValBetterTest, better], REF, { goal: 'minimize' });
    assert.equal(min.trial_id, 't1');
  });

  it('leaves out failed, unfinished and value-less trials and trials without the four key parameters', () => {
    const rows = buildReportTable(
      [
        trial('f', {}, 0.9, {}, 'failed'),
        trial('r', {}, null, {}, 'running'),
        trial('n', {}, null),
        { ...trial('x', {}, 0.5), params: { arch: 'cnn', optimizer: 'sgd', batch_size: 64 } },
        trial('s', { arch: 'mlp' }, 0.4, {}, 'stopped'),
      ],
      REF,
      { goal: 'maximize' },
    );
    assert.deepEqual(
      rows.map((r) => r.trial_id),
      ['s'],
    );
  });

  it('orders rows by the given architecture order, then optimizer, rate and batch', () => {
    const rows = buildReportTable(
      [
        trial('a', { arch: 'scnn', optimizer: 'sgd' }, 0.5),
        trial('b', { arch: 'mlp', optimizer: 'sgd' }, 0.5),
        trial('c', { arch: 'mlp', optimizer: 'adam', learning_rate: 0.0001 }, 0.5),
        trial('d', { arch: 'zzz' }, 0.5),
      ],
      REF,
      { goal: 'maximize', archOrder: ['mlp', 'cnn', 'scnn'] },
    );
    assert.deepEqual(
      rows.map((r) => r.trial_id),
      ['c', 'b', 'a', 'd'],
    );
  });

  it("the shipped reference is the seed report's table, with its source named", () => {
    const ref = SEED_REPORT_REFERENCE;
    assert.match(ref.source, /multi-digit-mnist-report\.md/);
    assert.equal(ref.rows.length, 12);
    const cnn32 = matchReference(
      { arch: 'cnn', optimizer: 'sgd', learning_rate: 0.01, batch_size: 32 },
      ref.rows,
    );
    assert.deepEqual(
      cnn32.map((r) => [formatPercentPair(r.train), formatPercentPair(r.test)]),
      [['(98%, 88%)', '(97%, 88%)']],
    );
    const scnn2Adam = matchReference(
      { arch: 'scnn2', optimizer: 'adam', learning_rate: 0.0001, batch_size: 64 },
      ref.rows,
    );
    assert.deepEqual(
      scnn2Adam.map((r) => [r.epochs, r.test]),
      [[15, [98, 98]]],
    );
  });
});
