import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { HpoError } from '../../errors.js';
import {
  type KernelArgs,
  requireInput,
  WasmKernelScope,
  WasmKernelUnsupportedError,
} from './kernel-scope.js';

const NAME = 'Conv2DBackpropFilter';

/**
 * Conv2DBackpropFilter (missing from tfjs-backend-wasm 4.22): the gradient of an NHWC conv2d
 * (dilation 1, any stride s, any padding) with respect to its filter, as ONE forward convolution.
 *
 *   dW[p,q,ci,co] = sum_{n,i,j} xpad[n, i*sh+p, j*sw+q, ci] * dy[n,i,j,co]
 *
 * is a VALID conv of X' = xpad transposed to [Ci,Hp,Wp,N] (batch Ci, channels N) with the filter
 * F' = dy transposed to [Ho,Wo,N,Co], at dilation (sh,sw): out [Ci,P,Q,Co] with P >= kh; slice to
 * kh x kw and transpose to [kh,kw,Ci,Co]. The padding is passed to the conv (no copy), extended with
 * zeros at the bottom/right when the forward output reached past the input (ceil rounding).
 * Unsupported: dataFormat NCHW (the wasm forward Conv2D does not run NCHW either).
 */
export function conv2DBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const x = requireInput(NAME, args.inputs, 'x');
  const dy = requireInput(NAME, args.inputs, 'dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') {
    throw new WasmKernelUnsupportedError(NAME, "dataFormat 'NCHW'", "only 'NHWC' is implemented");
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, padInfo } = info;
  const expectedDy = [n, ho, wo, co];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expectedDy[i])) {
    throw new HpoError(
      `wasm kernel ${NAME}: dy has shape [${dy.shape}], the forward conv gives [${expectedDy}]`,
    );
  }
  // Rows the conv must see: (ho-1)*sh + kh from the padded top; pad zeros past the input if needed.
  const pads = {
    top: padInfo.top,
    left: padInfo.left,
    bottom: Math.max(0, (ho - 1) * sh + kh - h - padInfo.top),
    right: Math.max(0, (wo - 1) * sw + kw - w - padInfo.left),
  };
  const s = new WasmKernelScope(args.backend as BackendWasm, NAME);
  try {
    const xT = s.reshape(s.transpose(s.reshape(x, [n, h * w, ci]), [2, 1, 0]), [ci, h, w, n]);
    const dyT = s.reshape(s.transpose(s.reshape(dy, [n, ho * wo, co]), [1, 0, 2]), [ho, wo, n, co]);
    let out = s.conv2d(xT, dyT, [sh, sw], pads); // [ci, P, Q, co]
    if (out.shape[1] !== kh || out.shape[2] !== kw) out = s.slice(out, [0, 0, 0, 0], [ci, kh, kw, co]);
    const dw = s.reshape(s.transpose(s.reshape(out, [ci, kh * kw, co]), [1, 0, 2]), [kh, kw, ci, co]);
    return s.keep(dw);
  } finally {
    s.dispose();
  }
}
