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
import { HpoError } from '../errors.js';
import { conv2DBackpropFilterWasm } from './wasm/conv2d-backprop-filter.js';
import { makeConv2DBackpropInputWasm, type WasmKernelFunc } from './wasm/conv2d-backprop-input.js';
import { depthwiseConv2dNativeBackpropFilterWasm } from './wasm/depthwise-conv2d-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputWasm } from './wasm/depthwise-conv2d-backprop-input.js';

export { WasmKernelUnsupportedError } from './wasm/kernel-scope.js';

const BACKEND = 'wasm';

/**
 * Whether the Conv2DBackpropInput replacement also takes strides > 1 (zero insertion + conv). It
 * does sh*sw times the useful multiply-adds but on XNNPACK; measured faster than the stock loop at
 * stride 2 (docs/WASM-GRADIENTS.md), so on.
 */
const FAST_STRIDED_INPUT_GRADIENT = true;

/** The kernels that wasm 4.22 lacks: registered only where no kernel exists (a later tfjs may ship its own). */
const MISSING: ReadonlyArray<[string, WasmKernelFunc]> = [
  ['Conv2DBackpropFilter', conv2DBackpropFilterWasm],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseConv2dNativeBackpropFilterWasm],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseConv2dNativeBackpropInputWasm],
];

/** Tags our Conv2DBackpropInput wrapper in the (global) registry, so it is never wrapped twice. */
const WRAPPED = Symbol.for('hpo.wasm-gradients.Conv2DBackpropInput');

/**
 * Registers the wasm gradient kernels. Import '@tensorflow/tfjs-backend-wasm' first (this module
 * does not, so that loading it does not register the wasm backend as a side effect). Idempotent;
 * may be called before or after `tf.setBackend('wasm')`: the new kernels need no setupFunc, and the
 * wrapped Conv2DBackpropInput keeps the stock kernel's setupFunc (run by the engine on setBackend),
 * which its fallback path needs.
 */
export function registerWasmGradientKernels(): void {
  const stock = tf.getKernel('Conv2DBackpropInput', BACKEND);
  if (stock === undefined) {
    throw new HpoError(
      "registerWasmGradientKernels: the wasm kernels are not registered; import '@tensorflow/tfjs-backend-wasm' first",
    );
  }
  for (const [kernelName, kernelFunc] of MISSING) {
    if (tf.getKernel(kernelName, BACKEND) === undefined) {
      tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    }
  }
  if (WRAPPED in stock.kernelFunc) return;
  const kernelFunc = makeConv2DBackpropInputWasm(stock.kernelFunc, FAST_STRIDED_INPUT_GRADIENT);
  Object.defineProperty(kernelFunc, WRAPPED, { value: true });
  tf.unregisterKernel('Conv2DBackpropInput', BACKEND);
  tf.registerKernel({ ...stock, kernelFunc });
}
