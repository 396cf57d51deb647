import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { requireInput } from './kernel-scope.js';
import { heapOffset, SIMD_LANES, simdKernels } from './simd-module.js';

const NAME = 'Sum';

/** Below this many elements the stock kernel is as fast (the reduction is not worth a new path). */
const MIN_ELEMENTS = 4096;

/**
 * Sum for backend 'wasm' over the LEADING axes of a float32 tensor (x [d0..dk-1, rest] summed over
 * d0..dk-1): the bias gradient of every conv and dense layer (dy summed over N, H, W). The stock
 * kernel first transposes the reduced axes to the end (a full copy) and then reduces; this sums the
 * rows of x viewed as [rows, cols] in one SIMD pass (simd-module `column_sum`). Anything else
 * (other axes, int32, fewer than 4096 elements, a column count not a multiple of 4) goes to the stock
 * kernel. The order of the additions differs from the stock kernel's (row by row in float32).
 */
export function makeSumWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = requireInput(NAME, args.inputs, 'x');
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    if (x.dtype !== 'float32') return stock(args);
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const sorted = [...new Set(axes)].sort((a, b) => a - b);
    const k = sorted.length;
    if (k === 0 || k >= rank || sorted.some((a, i) => a !== i)) return stock(args);
    const rows = x.shape.slice(0, k).reduce((p, d) => p * d, 1);
    const cols = x.shape.slice(k).reduce((p, d) => p * d, 1);
    if (rows * cols < MIN_ELEMENTS || cols % SIMD_LANES !== 0) return stock(args);
    const backend = args.backend as BackendWasm;
    const simd = simdKernels(backend);
    if (simd === null) return stock(args);
    const shape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
    const out = backend.makeOutput(shape, 'float32');
    simd.columnSum(heapOffset(backend, x.dataId), heapOffset(backend, out.dataId), rows, cols);
    return out;
  };
}
