import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { HpoError } from '../../../shared/errors.js';
import { heapOffset, SIMD_LANES, simdKernels } from './simd-module.js';
import { depthwiseBackpropInfo, type KernelArgs, requireInput, WasmKernelScope } from './kernel-scope.js';

const NAME = 'DepthwiseConv2dNativeBackpropFilter';

/**
 * DepthwiseConv2dNativeBackpropFilter (missing from tfjs-backend-wasm 4.22): the gradient of a
 * depthwise conv2d (channel multiplier M, any stride, any padding, dilation 1) w.r.t. its filter.
 *
 *   dW[p,q,c,m] = sum_{n,i,j} xpad[n, i*sh+p, j*sw+q, c] * dy[n,i,j,c*M+m]
 *
 * Moving the batch into the channels makes it ONE depthwise conv: input x as [1,Hp,Wp,N*C]
 * (channel n*C+c), filter dy as [Ho,Wo,N*C,M], VALID at dilation (sh,sw) -> [1,P,Q,N*C*M]; slice to
 * kh x kw, reshape to [kh,kw,N,C*M], sum over N, reshape to [kh,kw,C,M].
 * Unsupported: dilations > 1 (tfjs' own gradient never asks for them). Multiplier 1 takes a direct
 * pass instead (filterGradientDirect, below).
 */
export function depthwiseConv2dNativeBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const x = requireInput(NAME, args.inputs, 'x');
  const dy = requireInput(NAME, args.inputs, 'dy');
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const filterShape = attrs.filterShape;
  const info = depthwiseBackpropInfo(NAME, x.shape as [number, number, number, number], filterShape, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: cm } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, padInfo } = info;
  const m = filterShape[3];
  const expectedDy = [n, ho, wo, cm];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expectedDy[i])) {
    throw new HpoError(
      `wasm kernel ${NAME}: dy has shape [${dy.shape}], the forward conv gives [${expectedDy}]`,
    );
  }
  const pads = {
    top: padInfo.top,
    left: padInfo.left,
    bottom: Math.max(0, (ho - 1) * sh + kh - h - padInfo.top),
    right: Math.max(0, (wo - 1) * sw + kw - w - padInfo.left),
  };
  const backend = args.backend as BackendWasm;
  if (m === 1 && x.dtype === 'float32' && dy.dtype === 'float32') {
    return filterGradientDirect(backend, x, dy, info);
  }
  const s = new WasmKernelScope(backend, NAME);
  try {
    const xT = s.reshape(s.transpose(s.reshape(x, [n, h * w, c]), [1, 0, 2]), [1, h, w, n * c]);
    const dyT = s.reshape(s.transpose(s.reshape(dy, [n, ho * wo, cm]), [1, 0, 2]), [ho, wo, n * c, m]);
    let out = s.depthwiseConv2d(xT, dyT, [sh, sw], pads); // [1, P, Q, n*c*m]
    if (out.shape[1] !== kh || out.shape[2] !== kw) out = s.slice(out, [0, 0, 0, 0], [1, kh, kw, n * cm]);
    const perImage = n > 1 ? s.sum(s.reshape(out, [kh, kw, n, cm]), [2]) : out;
    return s.keep(s.reshape(perImage, [kh, kw, c, m]));
  } finally {
    s.dispose();
  }
}

/**
 * Multiplier 1 (the separable convs of the models): dW[p,q,c] = sum_{b,i,j} x[b, i*sh-top+p,
 * j*sw-left+q, c] * dy[b,i,j,c] as one direct pass, channels innermost: the SIMD module's
 * `depthwise_filter_grad` when C % 4 == 0, else the same loop in JS. The forward-conv form above runs
 * a depthwise conv with an Ho x Wo kernel, which XNNPACK's depthwise kernels (made for small
 * kernels) do ~10x slower than this pass. Float32 accumulation in a fixed order.
 */
function filterGradientDirect(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const out = backend.makeOutput([kh, kw, c, 1], 'float32');
  const dw = backend.typedArrayFromHeap(out) as Float32Array;
  dw.fill(0);
  const simd = c % SIMD_LANES === 0 ? simdKernels(backend) : null;
  if (simd) {
    simd.depthwiseFilterGrad(
      heapOffset(backend, x.dataId),
      heapOffset(backend, dy.dataId),
      heapOffset(backend, out.dataId),
      n,
      h,
      w,
      c,
      ho,
      wo,
      kh,
      kw,
      sh,
      sw,
      padInfo.top,
      padInfo.left,
    );
    return out;
  }
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  let d = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++, d += c) {
        for (let p = 0; p < kh; p++) {
          const r = i * sh - padInfo.top + p;
          if (r < 0 || r >= h) continue;
          for (let q = 0; q < kw; q++) {
            const col = j * sw - padInfo.left + q;
            if (col < 0 || col >= w) continue;
            const xAt = ((b * h + r) * w + col) * c;
            const wAt = (p * kw + q) * c;
            for (let k = 0; k < c; k++) dw[wAt + k] += xs[xAt + k] * dys[d + k];
          }
        }
      }
    }
  }
  return out;
}
