import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { depthwiseBackpropInfo, type KernelArgs, requireInput, WasmKernelScope } from './kernel-scope.js';

const NAME = 'DepthwiseConv2dNativeBackpropInput';

/**
 * DepthwiseConv2dNativeBackpropInput (missing from tfjs-backend-wasm 4.22): the gradient of a
 * depthwise conv2d (channel multiplier M, any stride, any padding, dilation 1) w.r.t. its input.
 *
 *   dx[n,h,w,c] = sum_{p,q,m} dyz[n, h+top-p, w+left-q, c*M+m] * W[p,q,c,m]
 *
 * with dyz = dy with sh-1 / sw-1 zeros inserted between rows / columns (dy itself at stride 1).
 * That is ONE depthwise conv (multiplier 1) of dyz padded by (kh-1-top) above and up to H rows
 * below, with the filter rotated 180 degrees and reshaped to [kh,kw,C*M,1] -> [N,H,W,C*M], then a
 * sum over the M channels of each input channel. Negative paddings become a crop of dyz.
 * Unsupported: dilations > 1 (tfjs' own gradient never asks for them).
 */
export function depthwiseConv2dNativeBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const dy = requireInput(NAME, args.inputs, 'dy');
  const filter = requireInput(NAME, args.inputs, 'filter');
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = depthwiseBackpropInfo(
    NAME,
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: cm } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const m = filter.shape[3];
  const s = new WasmKernelScope(args.backend as BackendWasm, NAME);
  try {
    const dyz = s.insertZeros(dy, sh, sw); // [n, ho*sh, wo*sw, c*m]
    const top = kh - 1 - padInfo.top;
    const left = kw - 1 - padInfo.left;
    const cropped = s.cropNegativePads(dyz, {
      top,
      left,
      bottom: h + kh - 1 - dyz.shape[1] - top,
      right: w + kw - 1 - dyz.shape[2] - left,
    });
    const rotated = s.reshape(s.reverse(filter, [0, 1]), [kh, kw, cm, 1]);
    const out = s.depthwiseConv2d(cropped.x, rotated, [1, 1], cropped.pads); // [n, h, w, c*m]
    return s.keep(m > 1 ? s.sum(s.reshape(out, [n, h, w, c, m]), [4]) : out);
  } finally {
    s.dispose();
  }
}
