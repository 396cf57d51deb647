import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { HpoError } from '../../../shared/errors.js';
import { type KernelArgs, requireInput } from './kernel-scope.js';
import { heapOffset, SIMD_LANES, simdKernels } from './simd-module.js';

const NAME = 'MaxPoolGrad';

/**
 * MaxPoolGrad for backend 'wasm' (the stock wasm kernel is a plain per-element loop, ~10x slower):
 * one pass over the typed arrays of the wasm heap, channels innermost (NHWC).
 *
 * For each output pixel the window is scanned in row-major order (in-bounds positions only) and,
 * per channel, the position of the FIRST strictly greatest value is kept; dy of that pixel is added
 * to dx there. That is exactly the tie rule of tfjs' cpu backend (`maxPoolPositions`: `pixel >
 * maxValue` from -Infinity): ties go to the first position in the window, NaN is never chosen, and a
 * window of only -Infinity / NaN passes no gradient. The forward output (`inputs.output`) is not
 * needed. Any window, stride, padding and rounding mode (computePool2DInfo); float32 only, other
 * dtypes go to `fallback` (the stock kernel).
 */
export function makeMaxPoolGradWasm(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const dy = requireInput(NAME, args.inputs, 'dy');
    const x = requireInput(NAME, args.inputs, 'input');
    if (x.dtype !== 'float32' || dy.dtype !== 'float32') return fallback(args);
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const expectedDy = info.outShape;
    if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expectedDy[i])) {
      throw new HpoError(
        `wasm kernel ${NAME}: dy has shape [${dy.shape}], the forward max-pool gives [${expectedDy}]`,
      );
    }
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput(x.shape, 'float32');
    // Views after the allocation: a heap growth replaces the buffer (older views would be detached).
    const dx = backend.typedArrayFromHeap(out) as Float32Array;
    const simd = info.inChannels % SIMD_LANES === 0 ? simdKernels(backend) : null;
    if (simd) {
      dx.fill(0);
      const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, padInfo } = info;
      simd.maxPoolGrad(
        heapOffset(backend, x.dataId),
        heapOffset(backend, dy.dataId),
        heapOffset(backend, out.dataId),
        batchSize,
        inHeight,
        inWidth,
        inChannels,
        outHeight,
        outWidth,
        info.filterHeight,
        info.filterWidth,
        info.strideHeight,
        info.strideWidth,
        padInfo.top,
        padInfo.left,
      );
    } else {
      const xs = backend.typedArrayFromHeap(x) as Float32Array;
      const dys = backend.typedArrayFromHeap(dy) as Float32Array;
      maxPoolGradLoop(xs, dys, dx, info);
    }
    return out;
  };
}

/** Scratch per channel, reused between calls (grown on demand). */
let bestValue = new Float32Array(64);
let bestIndex = new Int32Array(64);

function maxPoolGradLoop(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  if (bestValue.length < c) {
    bestValue = new Float32Array(c);
    bestIndex = new Int32Array(c);
  }
  const best = bestValue;
  const at = bestIndex;
  dx.fill(0);
  const rowStride = w * c;
  const imageStride = h * rowStride;
  let dyIndex = 0;
  for (let b = 0; b < n; b++) {
    const image = b * imageStride;
    for (let i = 0; i < ho; i++) {
      const r0 = i * sh - padInfo.top;
      const rFrom = Math.max(0, r0);
      const rTo = Math.min(h, r0 + kh);
      for (let j = 0; j < wo; j++) {
        const c0 = j * sw - padInfo.left;
        const cFrom = Math.max(0, c0);
        const cTo = Math.min(w, c0 + kw);
        best.fill(-Infinity, 0, c);
        at.fill(-1, 0, c);
        for (let r = rFrom; r < rTo; r++) {
          for (let col = cFrom; col < cTo; col++) {
            const base = image + r * rowStride + col * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k];
              if (v > best[k]) {
                best[k] = v;
                at[k] = base + k;
              }
            }
          }
        }
        for (let k = 0; k < c; k++) {
          const idx = at[k];
          if (idx >= 0) dx[idx] += dy[dyIndex + k];
        }
        dyIndex += c;
      }
    }
  }
}
