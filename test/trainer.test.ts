import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { subsetSplit, type TwoDigitDataset } from '../worker/data/index.js';
import { UsageError } from '../shared/errors.js';
import { selectBackend } from '../worker/backends/index.js';
import {
  evaluate,
  EVAL_BATCH,
  OPTIMIZER_NAMES,
  train,
  type TrainConfig,
  TrainingAbortedError,
} from '../worker/training/index.js';
import { BatchBuffers, makeBatch } from '../worker/training/batches.js';
import { architectureNames } from '../worker/models/index.js';
import { mnistTaskParams, mnistTrainConfig } from '../worker/tasks/mnist-params.js';
import { ParamError } from '../shared/errors.js';
import { resolveParams } from '../shared/task-params.js';
import { testDataset } from './helpers/dataset.js';

const base: TrainConfig = {
  arch: 'mlp',
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 64,
  epochs: 3,
  seed: 7,
};

describe('trainer', () => {
  let ds: TwoDigitDataset;

  before(async () => {
    ds = await testDataset();
    await selectBackend('wasm');
  });

  it('learns: mlp + adam on 6,000 pairs beats chance by far on validation, and reports every field', async () => {
    const result = await train({ ...base, trainSize: 6000 }, ds);
    assert.equal(result.epochs.length, 3);
    const last = result.epochs[2];
    // Chance is 10% per head. The full MLP reaches ~80%; this loose bar holds on any seed.
    assert.ok(last.val_acc > 0.45, `val_acc ${last.val_acc}`);
    assert.ok(result.epochs[0].train_loss > last.train_loss, 'training loss goes down');
    assert.ok(result.test.test_acc > 0.45, `test_acc ${result.test.test_acc}`);
    assert.equal(last.val_acc, (last.val_acc_top + last.val_acc_bottom) / 2);
    assert.ok(last.val_acc_both <= Math.min(last.val_acc_top, last.val_acc_bottom));
    assert.ok(last.images_per_s > 0 && last.epoch_seconds > 0);
    assert.equal(result.backend, 'wasm');
    assert.equal(result.data_sha256, ds.sha256);
    assert.equal(result.params, 76_628);
  });

  it('same seed and backend give the same numbers; another seed does not', async () => {
    const cfg = { ...base, epochs: 2, trainSize: 1000 };
    const strip = (r: Awaited<ReturnType<typeof train>>) =>
      r.epochs.map(({ epoch_seconds: _s, images_per_s: _i, num_tensors: _n, ...rest }) => rest);
    const a = await train(cfg, ds);
    const b = await train(cfg, ds);
    const c = await train({ ...cfg, seed: 8 }, ds);
    assert.deepEqual(strip(a), strip(b));
    assert.deepEqual(a.test, b.test);
    assert.notDeepEqual(strip(a), strip(c));
  });

  it('leaks no tensors across epochs, and frees the model at the end', async () => {
    const before = tf.memory().numTensors;
    const result = await train({ ...base, arch: 'scnn3', epochs: 3, trainSize: 128, batchSize: 32 }, ds);
    const counts = result.epochs.map((e) => e.num_tensors);
    assert.equal(counts[1], counts[0]);
    assert.equal(counts[2], counts[0]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('stops after the epoch where the caller says stop, and still reports test accuracy', async () => {
    const seen: number[] = [];
    const result = await train({ ...base, epochs: 5, trainSize: 256 }, ds, {
      onEpoch: (m) => {
        seen.push(m.epoch);
        return m.epoch === 2 ? 'stop' : 'continue';
      },
    });
    assert.deepEqual(seen, [1, 2]);
    assert.equal(result.epochs.length, 2);
    assert.equal(result.stopped_early, true);
    assert.ok(result.test.test_acc >= 0 && result.test.test_acc <= 1);
  });

  it('an abort signal ends training between batches with TrainingAbortedError, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    controller.abort(new Error('cancelled by test'));
    await assert.rejects(
      train({ ...base, trainSize: 256 }, ds, { signal: controller.signal }),
      TrainingAbortedError,
    );
    assert.equal(tf.memory().numTensors, before);
  });

  it("evaluate scores like tfjs' own predict at any evaluation batch, its buffers reused, on wasm and cpu", async () => {
    // The cpu backend keeps the host array a tensor is made from (no copy): reused buffers must not
    // overwrite a batch still in use. A trained model, so that a wrong pixel changes some answers.
    const split = subsetSplit(ds.val, 100);
    const small = { ...ds, val: split, test: split };
    try {
      for (const backend of ['wasm', 'cpu'] as const) {
        await selectBackend(backend);
        await train({ ...base, epochs: 1, trainSize: 1000 }, small, {
          onTrained: async (model) => {
            const pixels = Float32Array.from(split.images, (v) => v / 255);
            const [lt, lb] = tf.tidy(
              () => model.predict(tf.tensor4d(pixels, [100, 42, 28, 1])) as tf.Tensor[],
            );
            const [top, bottom] = await Promise.all([lt.argMax(-1).data(), lb.argMax(-1).data()]);
            tf.dispose([lt, lb]);
            let rightTop = 0;
            let rightBottom = 0;
            let both = 0;
            for (let i = 0; i < 100; i++) {
              rightTop += Number(top[i] === split.top[i]);
              rightBottom += Number(bottom[i] === split.bottom[i]);
              both += Number(top[i] === split.top[i] && bottom[i] === split.bottom[i]);
            }
            assert.ok(rightTop > 30 && rightTop < 100, `${backend}: top right ${rightTop} of 100`);
            const first = await evaluate(model, split);
            for (const batchSize of [1, 7, 32, 100, EVAL_BATCH]) {
              const m = await evaluate(model, split, { batchSize });
              const what = `${backend}, eval batch ${batchSize}`;
              assert.equal(m.accTop, rightTop / 100, what);
              assert.equal(m.accBottom, rightBottom / 100, what);
              assert.equal(m.accBoth, both / 100, what);
              assert.ok(
                Math.abs(m.loss - first.loss) <= 1e-5 * first.loss,
                `${what}: loss ${m.loss} vs ${first.loss}`,
              );
            }
          },
        });
      }
    } finally {
      await selectBackend('wasm');
    }
  });

  it('makeBatch into buffers too small for the rows is a RangeError', () => {
    const split = subsetSplit(ds.val, 10);
    assert.throws(() => makeBatch(split, [0, 1, 2, 3], 0, 4, new BatchBuffers(3)), RangeError);
  });

  it('every model trains a step on wasm (custom conv and depthwise gradients in use)', async () => {
    // Small validation and test splits keep the conv models' evaluation short.
    const small = { ...ds, val: subsetSplit(ds.val, 32), test: subsetSplit(ds.test, 32) };
    for (const arch of ['mlp_linear', 'cnn', 'cnn2', 'scnn', 'scnn2', 'scnn3']) {
      const r = await train(
        { ...base, arch, optimizer: 'sgd', learningRate: 0.01, epochs: 1, batchSize: 8, trainSize: 16 },
        small,
      );
      assert.ok(Number.isFinite(r.epochs[0].train_loss), `${arch} loss ${r.epochs[0].train_loss}`);
    }
  });

  describe("a trial's params are checked once, by the task's rules, naming the parameter and what it accepts", () => {
    const rules = mnistTaskParams({ architectures: architectureNames(), optimizers: OPTIMIZER_NAMES });
    const params = { arch: 'mlp', optimizer: 'adam', learning_rate: 0.001, batch_size: 64, epochs: 3 };
    const bad: [string, Record<string, string | number>, RegExp][] = [
      [
        'unknown architecture',
        { arch: 'vgg' },
        /^params\.arch: expected one of mlp, mlp_linear, .*, got "vgg"$/,
      ],
      [
        'unknown optimizer',
        { optimizer: 'lbfgs' },
        /^params\.optimizer: expected one of sgd, momentum, adam, rmsprop, got "lbfgs"$/,
      ],
      [
        'negative learning rate',
        { learning_rate: -0.1 },
        /^params\.learning_rate: expected a number > 0, got -0.1$/,
      ],
      [
        'non-numeric learning rate',
        { learning_rate: 'fast' },
        /^params\.learning_rate: expected a number > 0/,
      ],
      ['zero batch size', { batch_size: 0 }, /^params\.batch_size: expected an integer > 0, got 0$/],
      ['fractional epochs', { epochs: 1.5 }, /^params\.epochs: expected an integer > 0, got 1.5$/],
      [
        'negative train size',
        { train_size: -3 },
        /^params\.train_size: expected an integer > 0 and <= 36000/,
      ],
      ['train size above the split', { train_size: 36001 }, /^params\.train_size: .* <= 36000, got 36001$/],
    ];
    for (const [what, patch, message] of bad) {
      it(what, () => {
        assert.throws(
          () => resolveParams({ ...params, ...patch }, rules),
          (err: unknown) => {
            assert.ok(err instanceof ParamError && err instanceof UsageError, String(err));
            assert.match(err.message, message);
            assert.equal(err.param, Object.keys(patch)[0]);
            return true;
          },
        );
      });
    }
    it('absent params take the defaults; the trainer config is derived from the checked params', () => {
      assert.deepEqual(mnistTrainConfig(resolveParams({}, rules), 5), {
        arch: 'mlp',
        optimizer: 'adam',
        learningRate: 0.001,
        batchSize: 64,
        epochs: 10,
        seed: 5,
      });
      assert.deepEqual(
        mnistTrainConfig(resolveParams({ ...params, train_size: 100, val_size: 50 }, rules), 7),
        { ...base, trainSize: 100, valSize: 50 },
      );
    });
  });

  it('train() checks the sizes against the data set in use: a train size larger than its training split', async () => {
    await assert.rejects(train({ ...base, trainSize: 99_999 }, ds), /trainSize: expected at most 36000/);
  });
});
