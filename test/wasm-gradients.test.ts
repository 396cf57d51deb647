/**
 * The wasm training kernels (worker/backends/wasm-gradients.ts) against tfjs' cpu backend:
 * gradients of conv2d, depthwiseConv2d, separableConv2d and fused conv2d w.r.t. input, filter (and
 * bias), of maxPool (including ties), of matMul with transposes, and leading-axes sums, on the shapes
 * the models use and on odd sizes, strides, paddings and channel multipliers.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  registerWasmGradientKernels,
  WasmKernelUnsupportedError,
} from '../worker/backends/wasm-gradients.js';
import { simdKernels } from '../worker/backends/wasm/simd-module.js';

type Shape = number[];
type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
type Strides = number | [number, number];
/** A scalar function of some tensors, whose gradient w.r.t. each of them is compared. */
type ScalarFn = (...xs: tf.Tensor[]) => tf.Scalar;

const RELATIVE_TOLERANCE = 1e-4;

/** Deterministic values in [-1, 1) (backend-independent, unlike tf.random*). */
function values(shape: Shape, seed: number): Float32Array {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Deterministic small integers in {-2..1} / 2: many equal values (ties in every max-pool window). */
function tiedValues(shape: Shape, seed: number): Float32Array {
  return values(shape, seed).map((v) => Math.floor(v * 2) / 2);
}

type ValuesFn = (shape: Shape, seed: number) => Float32Array;

/** The gradients of sum(f(inputs) * r) for a fixed random r, computed on `backend`. */
async function gradientsOn(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  shapes: Shape[],
  inputValues: ValuesFn = values,
): Promise<Float32Array[]> {
  assert.equal(await tf.setBackend(backend), true, `tf.setBackend('${backend}')`);
  assert.equal(tf.getBackend(), backend);
  return tf.tidy(() => {
    const inputs = shapes.map((s, i) => tf.tensor(inputValues(s, 11 + i), s));
    const outShape = f(...inputs).shape;
    const r = tf.tensor(values(outShape, 97), outShape);
    const loss: ScalarFn = (...xs) => tf.sum(tf.mul(f(...xs), r));
    return tf
      .grads(loss)(inputs)
      .map((g) => g.dataSync() as Float32Array);
  });
}

/** max |a - b| / max |b| (b: the cpu reference). */
function relativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let magnitude = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    magnitude = Math.max(magnitude, Math.abs(b[i]));
  }
  return diff / Math.max(magnitude, 1e-12);
}

async function assertWasmMatchesCpu(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  shapes: Shape[],
  names: string[],
  inputValues: ValuesFn = values,
): Promise<void> {
  const cpu = await gradientsOn('cpu', f, shapes, inputValues);
  const wasm = await gradientsOn('wasm', f, shapes, inputValues);
  for (let i = 0; i < shapes.length; i++) {
    const err = relativeError(wasm[i], cpu[i]);
    assert.ok(
      err <= RELATIVE_TOLERANCE,
      `gradient w.r.t. ${names[i]}: relative error ${err.toExponential(2)}`,
    );
  }
}

interface ConvCase {
  x: Shape;
  filter: Shape;
  strides: Strides;
  pad: Pad;
  dimRoundingMode?: 'floor';
}

const describeCase = (c: ConvCase): string =>
  `x [${c.x}] filter [${c.filter}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}` +
  (c.dimRoundingMode ? ` ${c.dimRoundingMode}` : '');

// Numeric padding is only tested with equal strides and a square filter: tfjs 4.22 computes the
// output width of numeric padding from the filter height and stride height (conv_util
// computeOutputShape2D), and the wasm forward conv then writes out of bounds.
const CONV_CASES: ConvCase[] = [
  // The models: 3x3 same stride 1, first layer and a model-sized middle layer.
  { x: [1, 28, 28, 1], filter: [3, 3, 1, 32], strides: 1, pad: 'same' },
  { x: [2, 42, 28, 32], filter: [3, 3, 32, 64], strides: 1, pad: 'same' },
  // Odd sizes, batch 3, valid.
  { x: [3, 7, 5, 2], filter: [3, 3, 2, 3], strides: 1, pad: 'valid' },
  // The stride 1 filter gradient views the column shifts (kh * Cin >= 128) instead of copying them.
  { x: [2, 10, 9, 64], filter: [3, 3, 64, 8], strides: 1, pad: 'same' },
  { x: [3, 8, 7, 48], filter: [3, 2, 48, 4], strides: 1, pad: 'valid' },
  // Stride 1 filter gradient groups images per product (3 here): groups of 3 and 2; a 1x1 conv.
  { x: [5, 20, 20, 4], filter: [3, 3, 4, 5], strides: 1, pad: 'same' },
  { x: [7, 10, 7, 6], filter: [1, 1, 6, 8], strides: 1, pad: 'valid' },
  // Strides 2 and 3, non-square filters and strides, unused trailing input rows.
  { x: [3, 9, 7, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [2, 8, 9, 3], filter: [3, 2, 3, 4], strides: 2, pad: 'valid' },
  { x: [2, 9, 8, 2], filter: [4, 3, 2, 2], strides: 3, pad: 'same' },
  { x: [2, 8, 8, 2], filter: [3, 3, 2, 3], strides: 2, pad: 1, dimRoundingMode: 'floor' },
  {
    x: [2, 6, 7, 2],
    filter: [2, 3, 2, 3],
    strides: [2, 1],
    pad: [
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 0],
    ],
  },
  // Explicit padding wider than the filter: the input gradient crops dy instead of padding it.
  {
    x: [1, 5, 6, 2],
    filter: [2, 2, 2, 2],
    strides: 1,
    pad: [
      [0, 0],
      [3, 0],
      [0, 2],
      [0, 0],
    ],
  },
];

const DEPTHWISE_CASES: ConvCase[] = [
  // The models: separable 3x3 same, multiplier 1.
  { x: [2, 28, 28, 1], filter: [3, 3, 1, 1], strides: 1, pad: 'same' },
  { x: [3, 14, 14, 32], filter: [3, 3, 32, 1], strides: 1, pad: 'same' },
  // Multiplier 1 with 4k channels (SIMD filter gradient) at stride 2, and 5 channels (JS loop).
  { x: [2, 9, 8, 4], filter: [3, 3, 4, 1], strides: 2, pad: 'same' },
  { x: [3, 6, 7, 5], filter: [2, 3, 5, 1], strides: 1, pad: 'valid' },
  // Multiplier 2, odd sizes, batch 1 and 3, valid, strides.
  { x: [3, 7, 6, 2], filter: [3, 3, 2, 2], strides: 1, pad: 'valid' },
  { x: [1, 7, 7, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'same' },
  { x: [2, 8, 9, 3], filter: [3, 2, 3, 1], strides: 2, pad: 'valid' },
  { x: [2, 8, 8, 2], filter: [3, 3, 2, 2], strides: 2, pad: 1 },
  {
    x: [2, 6, 7, 2],
    filter: [2, 3, 2, 3],
    strides: [2, 1],
    pad: [
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 0],
    ],
  },
  {
    x: [1, 5, 6, 2],
    filter: [2, 2, 2, 2],
    strides: 1,
    pad: [
      [0, 0],
      [3, 0],
      [0, 2],
      [0, 0],
    ],
  },
];

describe('wasm gradient kernels', function () {
  let previousBackend: string | undefined;

  before(async function () {
    // Whatever backend an earlier test file chose (without making tfjs pick one now).
    previousBackend = tf.engine().backendName ?? undefined;
    // Before the backend initialises (the engine runs setupFuncs on setBackend) ...
    registerWasmGradientKernels();
    assert.equal(await tf.setBackend('wasm'), true, "tf.setBackend('wasm') resolved false");
    assert.equal(tf.getBackend(), 'wasm');
    // ... and again after: idempotent.
    registerWasmGradientKernels();
  });

  after(async function () {
    // Importing tfjs-backend-wasm makes 'wasm' tfjs' default; leave other test files on cpu.
    await tf.setBackend(previousBackend ?? 'cpu');
  });

  it('registers each kernel once: a second call does not wrap a stock kernel again', function () {
    const wrapped = ['Conv2DBackpropInput', 'MaxPoolGrad', 'BatchMatMul', 'Sum'];
    const before = wrapped.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
    wrapped.forEach((name, i) => {
      const f = before[i];
      assert.ok(f && Symbol.for(`hpo.wasm-gradients.${name}`) in f, `stock ${name} not wrapped`);
    });
    registerWasmGradientKernels();
    wrapped.forEach((name, i) => assert.equal(tf.getKernel(name, 'wasm')?.kernelFunc, before[i], name));
    for (const name of [
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
    ]) {
      assert.ok(tf.getKernel(name, 'wasm'), name);
    }
  });

  describe('conv2d: d/dx and d/dfilter match cpu', function () {
    for (const c of CONV_CASES) {
      it(describeCase(c), async function () {
        await assertWasmMatchesCpu(
          (x, w) =>
            tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad, 'NHWC', 1, c.dimRoundingMode),
          [c.x, c.filter],
          ['x', 'filter'],
        );
      });
    }
  });

  describe('depthwiseConv2d: d/dx and d/dfilter match cpu', function () {
    for (const c of DEPTHWISE_CASES) {
      it(describeCase(c), async function () {
        await assertWasmMatchesCpu(
          (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad),
          [c.x, c.filter],
          ['x', 'filter'],
        );
      });
    }
  });

  describe('separableConv2d: d/dx, d/ddepthwise and d/dpointwise match cpu', function () {
    const cases: { x: Shape; depthwise: Shape; pointwise: Shape; strides: 1 | 2; pad: 'same' | 'valid' }[] = [
      { x: [2, 14, 14, 32], depthwise: [3, 3, 32, 1], pointwise: [1, 1, 32, 64], strides: 1, pad: 'same' },
      { x: [3, 7, 6, 3], depthwise: [3, 3, 3, 2], pointwise: [1, 1, 6, 4], strides: 1, pad: 'valid' },
      { x: [1, 9, 9, 2], depthwise: [3, 3, 2, 2], pointwise: [1, 1, 4, 3], strides: 2, pad: 'same' },
    ];
    for (const c of cases) {
      it(`x [${c.x}] depthwise [${c.depthwise}] pointwise [${c.pointwise}] strides ${c.strides} ${c.pad}`, async function () {
        await assertWasmMatchesCpu(
          (x, d, p) =>
            tf.separableConv2d(x as tf.Tensor4D, d as tf.Tensor4D, p as tf.Tensor4D, c.strides, c.pad),
          [c.x, c.depthwise, c.pointwise],
          ['x', 'depthwise filter', 'pointwise filter'],
        );
      });
    }
  });

  describe('tf.fused.conv2d with bias: d/dx, d/dfilter and d/dbias match cpu', function () {
    const cases: (ConvCase & { activation: 'relu' | 'linear' })[] = [
      { x: [2, 14, 14, 32], filter: [3, 3, 32, 64], strides: 1, pad: 'same', activation: 'relu' },
      { x: [3, 9, 7, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same', activation: 'linear' },
      { x: [1, 6, 5, 2], filter: [2, 3, 2, 3], strides: 1, pad: 'valid', activation: 'relu' },
    ];
    for (const c of cases) {
      it(`${describeCase(c)} ${c.activation}`, async function () {
        await assertWasmMatchesCpu(
          (x, filter, bias) =>
            tf.fused.conv2d({
              x: x as tf.Tensor4D,
              filter: filter as tf.Tensor4D,
              bias,
              strides: c.strides,
              pad: c.pad as 'same' | 'valid',
              activation: c.activation,
            }),
          [c.x, c.filter, [c.filter[3]]],
          ['x', 'filter', 'bias'],
        );
      });
    }
  });

  it('the SIMD module (max-pool gradient, column sums) loads in this runtime', function () {
    // Without it the kernels below silently take their slower JS / stock paths.
    assert.ok(simdKernels(tf.findBackend('wasm') as BackendWasm), 'wasm SIMD kernels unavailable');
  });

  describe('maxPool: d/dx matches cpu, including its tie rule', function () {
    interface PoolCase {
      x: Shape;
      size: number | [number, number];
      strides: number | [number, number];
      pad: 'same' | 'valid';
    }
    const cases: PoolCase[] = [
      // The models: 3x3 stride 1 same (cnn, scnn*), 2x2 stride 2 valid (cnn2, scnn3).
      { x: [2, 42, 28, 32], size: 3, strides: 1, pad: 'same' },
      { x: [3, 14, 14, 64], size: 3, strides: 1, pad: 'same' },
      { x: [2, 28, 28, 32], size: 2, strides: 2, pad: 'valid' },
      // Odd sizes: a dropped last row/column (valid), windows cut by the border (same, stride 2).
      { x: [3, 7, 5, 4], size: 2, strides: 2, pad: 'valid' },
      { x: [2, 9, 7, 8], size: 3, strides: 2, pad: 'same' },
      { x: [1, 6, 9, 12], size: [2, 3], strides: [1, 2], pad: 'same' },
      // Channels not a multiple of 4: the JS loop instead of the SIMD one.
      { x: [2, 9, 7, 3], size: 3, strides: 1, pad: 'same' },
      { x: [3, 7, 5, 1], size: 2, strides: 2, pad: 'valid' },
    ];
    for (const c of cases) {
      const title = `x [${c.x}] size ${JSON.stringify(c.size)} strides ${JSON.stringify(c.strides)} ${c.pad}`;
      const pool = (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, c.size, c.strides, c.pad);
      it(`${title}: distinct values`, async function () {
        await assertWasmMatchesCpu(pool, [c.x], ['x']);
      });
      it(`${title}: ties (the first maximum in the window, row-major, gets the gradient)`, async function () {
        await assertWasmMatchesCpu(pool, [c.x], ['x'], tiedValues);
      });
    }

    it('windows of -Infinity and NaN pass no gradient, as on cpu', async function () {
      const special: ValuesFn = (shape, seed) =>
        values(shape, seed).map((v, i) => (i % 7 === 0 ? NaN : i % 5 < 3 ? -Infinity : v));
      const raw = async (backend: string): Promise<Float32Array> => {
        assert.equal(await tf.setBackend(backend), true);
        return tf.tidy(() => {
          const x = tf.tensor(special([2, 6, 5, 8], 3), [2, 6, 5, 8]);
          const y = tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid');
          const dy = tf.tensor(values(y.shape, 4), y.shape);
          const dx = tf
            .engine()
            .runKernel(
              'MaxPoolGrad',
              { dy, input: x, output: y },
              { filterSize: 2, strides: 2, pad: 'valid' },
            ) as tf.Tensor;
          return dx.dataSync() as Float32Array;
        });
      };
      assert.deepEqual(await raw('wasm'), await raw('cpu'));
    });
  });

  describe('matMul with transposes: d/da and d/db match cpu', function () {
    const cases: { a: Shape; b: Shape; ta: boolean; tb: boolean }[] = [
      // The dense layers: forward x W, whose gradients are dy W^T and x^T dy.
      { a: [32, 1176], b: [1176, 64], ta: false, tb: false },
      { a: [64, 960], b: [10, 960], ta: false, tb: true },
      { a: [75, 32], b: [75, 10], ta: true, tb: false },
      { a: [7, 5], b: [3, 7], ta: true, tb: true },
      // Rank 3 with a batch of 1 (fast path) and of 2 (stock kernel).
      { a: [1, 6, 4], b: [1, 5, 4], ta: false, tb: true },
      { a: [2, 6, 4], b: [2, 6, 3], ta: true, tb: false },
    ];
    for (const c of cases) {
      it(`a [${c.a}] b [${c.b}] transposeA ${c.ta} transposeB ${c.tb}`, async function () {
        await assertWasmMatchesCpu((a, b) => tf.matMul(a, b, c.ta, c.tb), [c.a, c.b], ['a', 'b']);
      });
    }
  });

  describe('sum over leading axes matches cpu', function () {
    const cases: { x: Shape; axis: number[]; keepDims: boolean }[] = [
      { x: [32, 42, 28, 64], axis: [0, 1, 2], keepDims: false }, // a conv bias gradient
      { x: [64, 10], axis: [0], keepDims: false },
      { x: [300, 40], axis: [0], keepDims: true },
      { x: [9, 30, 16], axis: [1, 0], keepDims: false },
      { x: [9, 30, 16], axis: [-3], keepDims: true },
      // Stock kernel: columns not a multiple of 4, inner axes, few elements.
      { x: [50, 30, 7], axis: [0, 1], keepDims: false },
      { x: [40, 30, 8], axis: [1, 2], keepDims: false },
      { x: [4, 8], axis: [0], keepDims: false },
    ];
    for (const c of cases) {
      it(`x [${c.x}] axis [${c.axis}] keepDims ${c.keepDims}`, async function () {
        const run = async (backend: string): Promise<{ shape: number[]; data: Float32Array }> => {
          assert.equal(await tf.setBackend(backend), true);
          return tf.tidy(() => {
            const out = tf.sum(tf.tensor(values(c.x, 21), c.x), c.axis, c.keepDims);
            return { shape: out.shape, data: out.dataSync() as Float32Array };
          });
        };
        const cpu = await run('cpu');
        const wasm = await run('wasm');
        assert.deepEqual(wasm.shape, cpu.shape);
        const err = relativeError(wasm.data, cpu.data);
        assert.ok(err <= RELATIVE_TOLERANCE, `relative error ${err.toExponential(2)}`);
      });
    }
  });

  it('tf.layers conv2d + separableConv2d + pooling + dense: weight gradients match cpu', async function () {
    const build = (): tf.LayersModel => {
      const input = tf.input({ shape: [14, 10, 1] });
      let h = tf.layers
        .conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' })
        .apply(input);
      h = tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(h);
      h = tf.layers
        .separableConv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' })
        .apply(h);
      h = tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(h);
      h = tf.layers.flatten().apply(h);
      const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(h) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: out });
    };
    const gradientsOfModelOn = async (backend: string): Promise<Float32Array[]> => {
      assert.equal(await tf.setBackend(backend), true);
      const model = build();
      const weights = model.getWeights().map((w, i) => tf.tensor(values(w.shape, 300 + i), w.shape));
      model.setWeights(weights);
      tf.dispose(weights);
      const x = tf.tensor(values([2, 14, 10, 1], 5), [2, 14, 10, 1]);
      const y = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
      const { grads } = tf.variableGrads(() =>
        tf.mean(tf.metrics.categoricalCrossentropy(y, model.predict(x) as tf.Tensor)),
      );
      const out = model.trainableWeights.map((w) => {
        const g = grads[w.name];
        assert.ok(g, `no gradient for ${w.name}`);
        return g.dataSync() as Float32Array;
      });
      tf.dispose([x, y, ...Object.values(grads)]);
      model.dispose();
      return out;
    };
    const cpu = await gradientsOfModelOn('cpu');
    const wasm = await gradientsOfModelOn('wasm');
    assert.equal(wasm.length, 7); // conv kernel+bias, depthwise, pointwise, bias, dense kernel+bias
    cpu.forEach((g, i) => {
      const err = relativeError(wasm[i], g);
      assert.ok(err <= RELATIVE_TOLERANCE, `weight ${i}: relative error ${err.toExponential(2)}`);
    });
  });

  it("Conv2DBackpropInput with dataFormat 'NCHW' goes to the stock kernel and matches cpu", async function () {
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 6, 5] };
    const run = async (backend: string): Promise<Float32Array> => {
      assert.equal(await tf.setBackend(backend), true);
      return tf.tidy(() => {
        const dy = tf.tensor(values([2, 4, 6, 5], 1), [2, 4, 6, 5]);
        const filter = tf.tensor(values([3, 3, 3, 4], 2), [3, 3, 3, 4]);
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
        assert.deepEqual(dx.shape, [2, 3, 6, 5]);
        return dx.dataSync() as Float32Array;
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    assert.ok(relativeError(wasm, cpu) <= RELATIVE_TOLERANCE);
  });

  describe('unsupported configurations throw an error naming the kernel and the attribute', function () {
    beforeEach(async function () {
      assert.equal(await tf.setBackend('wasm'), true);
    });

    it("Conv2DBackpropFilter with dataFormat 'NCHW'", function () {
      const x = tf.zeros([1, 2, 5, 5]);
      const dy = tf.zeros([1, 3, 3, 3]);
      const before = tf.memory().numTensors;
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x, dy },
              { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] },
            ),
        (err: unknown) =>
          err instanceof WasmKernelUnsupportedError &&
          /Conv2DBackpropFilter/.test(err.message) &&
          /dataFormat 'NCHW'/.test(err.message),
      );
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, dy]);
    });

    it('DepthwiseConv2dNativeBackpropInput and ...Filter with dilations 2', function () {
      const x = tf.zeros([1, 7, 7, 2]);
      const dy = tf.zeros([1, 3, 3, 2]);
      const filter = tf.zeros([3, 3, 2, 1]);
      const common = { strides: 1, dilations: 2, pad: 'valid' };
      const named = (kernel: string) => (err: unknown) =>
        err instanceof WasmKernelUnsupportedError &&
        err.message.includes(kernel) &&
        /dilations \[2,2\]/.test(err.message);
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel(
              'DepthwiseConv2dNativeBackpropInput',
              { dy, filter },
              { ...common, inputShape: x.shape },
            ),
        named('DepthwiseConv2dNativeBackpropInput'),
      );
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel(
              'DepthwiseConv2dNativeBackpropFilter',
              { x, dy },
              { ...common, filterShape: filter.shape },
            ),
        named('DepthwiseConv2dNativeBackpropFilter'),
      );
      tf.dispose([x, dy, filter]);
    });
  });

  it('leaks no tensors or wasm buffers across repeated gradient computations', async function () {
    assert.equal(await tf.setBackend('wasm'), true);
    const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
    const x = tf.tensor(values([2, 9, 7, 4], 1), [2, 9, 7, 4]);
    const w = tf.tensor(values([3, 3, 4, 5], 2), [3, 3, 4, 5]);
    const b = tf.tensor(values([5], 3), [5]);
    const dw = tf.tensor(values([3, 3, 4, 2], 4), [3, 3, 4, 2]);
    const pw = tf.tensor(values([1, 1, 8, 3], 5), [1, 1, 8, 3]);
    const step = (): void => {
      const grads = tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, dw: tf.Tensor, pw: tf.Tensor) => {
        const x4 = x as tf.Tensor4D;
        const a = tf.fused.conv2d({
          x: x4,
          filter: w as tf.Tensor4D,
          bias: b,
          strides: 1,
          pad: 'same',
          activation: 'relu',
        });
        const s = tf.conv2d(x4, w as tf.Tensor4D, 2, 'valid');
        const d = tf.depthwiseConv2d(x4, dw as tf.Tensor4D, 2, 'same');
        const sep = tf.separableConv2d(x4, dw as tf.Tensor4D, pw as tf.Tensor4D, 1, 'valid');
        // Max-pool gradients on the SIMD path (4 channels) and the JS path (5), matMul with transposes.
        const pooled = tf.maxPool(tf.maxPool(a, 3, 1, 'same'), 2, 2, 'valid');
        const flat = tf.reshape(pooled, [pooled.shape[0], -1]);
        const gram = tf.add(tf.matMul(flat, flat, false, true).sum(), tf.matMul(flat, flat, true).sum());
        const pooledX = tf.maxPool(x4, 3, 1, 'same');
        // A leading-axes sum large enough for the SIMD column sum.
        const columns = tf
          .sum(tf.tile(x4, [8, 4, 4, 1]), [0, 1, 2])
          .square()
          .sum();
        return tf.addN([a.sum(), s.sum(), d.sum(), sep.square().sum(), gram, pooledX.sum(), columns]);
      })([x, w, b, dw, pw]);
      tf.dispose(grads);
    };
    step(); // warm-up: creates anything cached for good
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    for (let i = 0; i < 5; i++) step();
    assert.equal(tf.memory().numTensors, tensors, 'tf.memory().numTensors grew');
    assert.equal(backend.numDataIds(), dataIds, 'the wasm backend holds more buffers');
    tf.dispose([x, w, b, dw, pw]);
  });
});
