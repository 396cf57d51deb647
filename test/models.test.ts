import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURES, architectureNames, disposeModel, getArchitecture } from '../worker/models/index.js';
import { UsageError } from '../shared/errors.js';

/** Parameter counts worked out by hand from the layer lists in docs/MODELS.md. */
const EXPECTED_PARAMS: Record<string, number> = {
  // 1176*64+64 hidden, 2 heads of 64*10+10
  mlp: 75_328 + 1_300,
  mlp_linear: 75_328 + 1_300,
  // conv 1*9*32+32, 32*9*64+64, 64*9*64+64; flatten 42*28*64 = 75264 -> 2 heads of 75264*10+10
  cnn: 320 + 18_496 + 36_928 + 2 * 752_650,
  // separable: depthwise 9*cin + pointwise cin*cout + cout bias; 42x28 -> 21x14 -> 10x7 -> 5x3; 960 -> 2 heads
  cnn2: 9 + 32 + 32 + (288 + 2048 + 64) + (576 + 4096 + 64) + 2 * 9_610,
  // per crop: conv 320 + 18496, flatten 28*28*64 = 50176 -> dense 10
  scnn: 2 * (320 + 18_496 + 501_770),
  // one shared tower: 3 convs, flatten 50176 -> one dense 10
  scnn2: 320 + 18_496 + 36_928 + 501_770,
  // one shared separable tower, 28x28 -> 14 -> 7 -> 3; 576 -> one dense 10
  scnn3: 9 + 32 + 32 + (288 + 2048 + 64) + (576 + 4096 + 64) + 5_770,
};

describe('model registry', () => {
  before(async () => {
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
  });

  it('has the seven architectures of the report', () => {
    assert.deepEqual(architectureNames().sort(), [
      'cnn',
      'cnn2',
      'mlp',
      'mlp_linear',
      'scnn',
      'scnn2',
      'scnn3',
    ]);
  });

  for (const name of Object.keys(EXPECTED_PARAMS)) {
    it(`${name}: two [batch, 10] heads and ${EXPECTED_PARAMS[name]} parameters`, () => {
      const model = getArchitecture(name).build({ seed: 3 });
      try {
        assert.equal(model.countParams(), EXPECTED_PARAMS[name]);
        const x = tf.randomUniform([3, 42, 28, 1], 0, 1, 'float32', 7);
        const outputs = model.predict(x) as tf.Tensor[];
        assert.equal(outputs.length, 2);
        for (const out of outputs) assert.deepEqual(out.shape, [3, 10]);
        tf.dispose([x, ...outputs]);
      } finally {
        disposeModel(model);
      }
    });
  }

  it('the same seed gives the same initial weights; another seed does not', () => {
    const weights = (seed: number) => {
      const m = getArchitecture('mlp').build({ seed });
      const w = m.getWeights().map((t) => Array.from(t.dataSync()));
      m.dispose();
      return w;
    };
    assert.deepEqual(weights(5), weights(5));
    assert.notDeepEqual(weights(5), weights(6));
  });

  it('scnn2 shares its tower: the top and bottom heads give equal logits for equal crops', () => {
    const model = getArchitecture('scnn2').build({ seed: 1 });
    // Rows 0-27 and 14-41 identical: a 42-row image periodic with period 14.
    const digit = tf.randomUniform([1, 14, 28, 1], 0, 1, 'float32', 1);
    const x = tf.concat([digit, digit, digit], 1);
    const [top, bottom] = model.predict(x) as tf.Tensor[];
    assert.deepEqual(Array.from(top.dataSync()), Array.from(bottom.dataSync()));
    tf.dispose([digit, x, top, bottom]);
    disposeModel(model);
    assert.ok(ARCHITECTURES.size === 7);
  });

  it('disposeModel frees every weight, shared towers included', () => {
    const before = tf.memory().numTensors;
    for (const name of ARCHITECTURES.keys()) disposeModel(getArchitecture(name).build({ seed: 1 }));
    assert.equal(tf.memory().numTensors, before);
  });

  it('an unknown architecture is a UsageError listing the known ones', () => {
    assert.throws(
      () => getArchitecture('resnet'),
      (err: unknown) => {
        assert.ok(err instanceof UsageError);
        assert.match(err.message, /unknown architecture 'resnet'.*mlp, mlp_linear, cnn/);
        return true;
      },
    );
  });
});
