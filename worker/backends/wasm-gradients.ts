/**
 * Training support for the tfjs wasm backend (tfjs 4.22). Its kernel set lacks the conv gradients
 * Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput
 * (tfjs issue #8474), and its Conv2DBackpropInput is a slow plain loop. This registers kernels for
 * backend 'wasm' that express each gradient as a FORWARD convolution over transposed / padded /
 * flipped tensors, so it runs on XNNPACK through the backend's own Conv2D / DepthwiseConv2dNative
 * kernels. Kernel level (not gradient level), so every path reaches them: tf.conv2d, tf.fused.conv2d
 * (tf.layers), tf.depthwiseConv2d, tf.separableConv2d. Math and limits: docs/WASM-GRADIENTS.md.
 */
import * as tf from '@tensorflow/tfjs';
import { HpoError } from '../../shared/errors.js';
import { makeBatchMatMulWasm } from './wasm/batch-mat-mul.js';
import { conv2DBackpropFilterWasm } from './wasm/conv2d-backprop-filter.js';
import { makeConv2DBackpropInputWasm } from './wasm/conv2d-backprop-input.js';
import { depthwiseConv2dNativeBackpropFilterWasm } from './wasm/depthwise-conv2d-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputWasm } from './wasm/depthwise-conv2d-backprop-input.js';
import { makeIdentityWasm } from './wasm/identity.js';
import { makeMaxPoolGradWasm } from './wasm/max-pool-grad.js';
import { makeSumWasm } from './wasm/sum.js';

export { WasmKernelUnsupportedError } from '../../shared/errors.js';

const BACKEND = 'wasm';

/**
 * Strides (sh*sw) up to which the Conv2DBackpropInput replacement takes strided convs itself (zero
 * insertion + one conv, sh*sw times the useful multiply-adds but on XNNPACK). Measured for a
 * 32x42x28 32->64 3x3 layer: stride 2 takes 42 ms vs the stock loop's 113 ms; stride 3 46-61 ms vs
 * 57 ms, no gain, so from there on the stock kernel runs.
 */
const MAX_STRIDE_AREA_FOR_INPUT_GRADIENT = 4;

/** The kernels that wasm 4.22 lacks: registered only where no kernel exists (a later tfjs may ship its own). */
const MISSING: ReadonlyArray<[string, tf.KernelFunc]> = [
  ['Conv2DBackpropFilter', conv2DBackpropFilterWasm],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseConv2dNativeBackpropFilterWasm],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseConv2dNativeBackpropInputWasm],
];

/**
 * Stock wasm kernels replaced by a faster one; each factory gets the stock kernel function for the
 * cases it hands back (its stock setupFunc stays registered, and the engine runs it on setBackend).
 */
const REPLACED: ReadonlyArray<[string, (stock: tf.KernelFunc) => tf.KernelFunc]> = [
  ['Conv2DBackpropInput', (stock) => makeConv2DBackpropInputWasm(stock, MAX_STRIDE_AREA_FOR_INPUT_GRADIENT)],
  ['MaxPoolGrad', makeMaxPoolGradWasm],
  ['BatchMatMul', makeBatchMatMulWasm],
  ['Sum', makeSumWasm],
  ['Identity', makeIdentityWasm],
];

/** Tags our wrappers in the (global) registry, so that a kernel is never wrapped twice. */
const wrappedTag = (kernelName: string): symbol => Symbol.for(`hpo.wasm-gradients.${kernelName}`);

/**
 * Registers the wasm gradient kernels. Import '@tensorflow/tfjs-backend-wasm' first (this module
 * does not, so that loading it does not register the wasm backend as a side effect). Idempotent;
 * may be called before or after `tf.setBackend('wasm')`: the new kernels need no setupFunc, and the
 * wrapped stock kernels (Conv2DBackpropInput, MaxPoolGrad, BatchMatMul) keep their setupFunc (run
 * by the engine on setBackend), which their fallback paths need.
 */
export function registerWasmGradientKernels(): void {
  if (tf.getKernel('Conv2DBackpropInput', BACKEND) === undefined) {
    throw new HpoError(
      "registerWasmGradientKernels: the wasm kernels are not registered; import '@tensorflow/tfjs-backend-wasm' first",
    );
  }
  for (const [kernelName, kernelFunc] of MISSING) {
    if (tf.getKernel(kernelName, BACKEND) === undefined) {
      tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    }
  }
  for (const [kernelName, make] of REPLACED) {
    const stock = tf.getKernel(kernelName, BACKEND);
    if (stock === undefined) {
      throw new HpoError(`registerWasmGradientKernels: the wasm backend has no '${kernelName}' kernel`);
    }
    const tag = wrappedTag(kernelName);
    if (tag in stock.kernelFunc) continue;
    const kernelFunc = make(stock.kernelFunc);
    Object.defineProperty(kernelFunc, tag, { value: true });
    tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ ...stock, kernelFunc });
  }
}
