import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { requireInput, WasmKernelScope } from './kernel-scope.js';

const NAME = 'Conv2DBackpropInput';

/**
 * Conv2DBackpropInput (tfjs-backend-wasm has one, but it is a plain loop ~10x slower than the
 * forward conv): the gradient of an NHWC conv2d with respect to its input, as ONE forward conv.
 *
 *   dx[n,h,w,ci] = sum_{p,q,co} dyz[n, h+top-p, w+left-q, co] * W[p,q,ci,co]
 *
 * where dyz is dy with sh-1 / sw-1 zeros inserted between rows / columns (dyz = dy at stride 1).
 * That is a conv of dyz padded by (kh-1-top) above and up to H rows in total below, with the
 * filter rotated 180 degrees and its channels swapped (Wrot[p,q,co,ci] = W[kh-1-p,kw-1-q,ci,co]).
 * Negative paddings (explicit padding > kernel-1) become a crop of dyz.
 *
 * `fallback` (the stock wasm kernel) handles what this does not: dataFormat NCHW, and strides with
 * sh*sw > `maxStrideArea` (the zero-insertion conv does sh*sw times the useful work, so past some
 * stride the stock loop wins).
 */
export function makeConv2DBackpropInputWasm(fallback: tf.KernelFunc, maxStrideArea: number): tf.KernelFunc {
  return (args) => {
    const dy = requireInput(NAME, args.inputs, 'dy');
    const filter = requireInput(NAME, args.inputs, 'filter');
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
      args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (dataFormat === 'NCHW') return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const { strideHeight: sh, strideWidth: sw } = info;
    if (sh * sw > maxStrideArea) return fallback(args);
    return conv2DBackpropInputByConv(args.backend as BackendWasm, dy, filter, info);
  };
}

function conv2DBackpropInputByConv(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { inHeight: h, inWidth: w, filterHeight: kh, filterWidth: kw, padInfo } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const s = new WasmKernelScope(backend, NAME);
  try {
    const dyz = s.insertZeros(dy, sh, sw); // [n, ho*sh, wo*sw, co]
    const top = kh - 1 - padInfo.top;
    const left = kw - 1 - padInfo.left;
    const cropped = s.cropNegativePads(dyz, {
      top,
      left,
      bottom: h + kh - 1 - dyz.shape[1] - top,
      right: w + kw - 1 - dyz.shape[2] - left,
    });
    const rotated = s.transpose(s.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [kh, kw, co, ci]
    return s.keep(s.conv2d(cropped.x, rotated, [1, 1], cropped.pads));
  } finally {
    s.dispose();
  }
}
