import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { HpoError, WasmKernelUnsupportedError } from '../../../shared/errors.js';
import { type KernelArgs, requireInput, WasmKernelScope } from './kernel-scope.js';

const NAME = 'Conv2DBackpropFilter';

/**
 * Target depth K (grid cells summed over) of one product of the stride-1 filter gradient. Images
 * are grouped until K reaches about this: one image of the cnn (42x30 grid) is a product, the 1x1
 * pointwise convs of cnn2 on 10x7 maps take ~20 images per product. Measured on 32x42x28 32->64:
 * K 1260 and 2520 give the same time, 5040 and more get slower (the packed operand leaves the cache).
 */
const PRODUCT_DEPTH = 1536;

/**
 * Below this many rows (kh * Ci) the kw column shifts are copied too (rows kh * kw * Ci, one product
 * per group) instead of viewed (kw products). 42x28 at batch 32: 32->64 took 70-80 ms as 3 products
 * of 96 rows, 62 ms as one of 288 (forward conv: 39 ms); 64->64 takes ~105 ms either way (forward:
 * 75 ms), so there the copy is not worth its memory.
 */
const MIN_PRODUCT_ROWS = 128;

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
  const s = new WasmKernelScope(args.backend as BackendWasm, NAME);
  try {
    if (sh === 1 && sw === 1 && x.dtype === 'float32' && dy.dtype === 'float32') {
      return s.keep(filterGradientByShiftedProducts(s, x, dy, info));
    }
    // Rows the conv must see: (ho-1)*sh + kh from the padded top; pad zeros past the input if needed.
    const pads = {
      top: padInfo.top,
      left: padInfo.left,
      bottom: Math.max(0, (ho - 1) * sh + kh - h - padInfo.top),
      right: Math.max(0, (wo - 1) * sw + kw - w - padInfo.left),
    };
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

/**
 * Stride 1: dW as kw matrix products per image on XNNPACK's GEMM, with no im2col. Pad (or crop) x to
 * exactly hp = ho+kh-1 rows and wp = wo+kw-1 columns and lay each image out channel-major; copy it
 * kh times shifted by one row each, X3[n,p,ci,i,j] = xpad[n,i+p,j,ci] for i < ho, j < wp (a grid of
 * L = ho*wp per row). Give dy the same grid, Dg[n,i,j,co] = dy[n,i,j,co] for j < wo and 0 for j >= wo.
 * Then for each image n and column shift q
 *
 *   dW[p,q,ci,co] += sum_r X3[n,p,ci, r+q] * Dg[n, r, co]        (r over the L grid cells)
 *
 * and the operand X3[n, ., ., q + .] is the SAME memory as X3[n] viewed from element q on: one
 * [kh*ci, L] x [L, co] product per (n, q), on a view (no copy). Reading q elements into the next
 * row only ever meets grid columns j >= wo, where Dg is zero (j + q < wp for j < wo); the last row
 * of the last image reads kw-1 zeros appended to X3. Dg[n] is the same `b` for the kw products of an
 * image, so XNNPACK packs it once. K = L per product keeps the GEMM operands in cache, which the
 * one-conv form (K = n*ho*wo) does not: that form is ~1.8x the forward conv, this ~1.3-1.5x.
 * Small maps group several images per product (PRODUCT_DEPTH): within a group, row (p, ci) holds
 * the grids of its images back to back, and Dg's rows of those images are consecutive already; the
 * q elements read past one image's grid again meet only Dg's zero columns.
 */
function filterGradientByShiftedProducts(
  s: WasmKernelScope,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const plan = productPlan(info);
  const { inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw } = info;
  const x2 = channelMajorPadded(s, x, info, plan);
  const dg =
    kw > 1
      ? s.pad(dy, [
          [0, 0],
          [0, 0],
          [0, kw - 1],
          [0, 0],
        ])
      : dy; // [n, ho, wp, co]
  const x3 = s.alloc([plan.x3Size + kw]);
  const dw = s.alloc([kh, kw, ci, co]);
  copyShiftedRows(s, x2, x3, info, plan);
  const dwAt = s.heapOffset(dw) >> 2;
  s.heapF32().fill(0, dwAt, dwAt + kh * kw * ci * co);
  accumulateProducts(s, x3, dg, dw, info, plan);
  return dw;
}

/** The sizes of the shifted-products form for one conv (see filterGradientByShiftedProducts). */
interface ProductPlan {
  /** Padded input rows and columns: ho+kh-1, wo+kw-1. */
  hp: number;
  wp: number;
  /** Cells of one image's grid (L = ho*wp). */
  grid: number;
  /** Images per product. */
  g: number;
  /** Column shifts copied per row: kw (one product per group) or 1 (kw products, on views). */
  sc: number;
  /** Rows of X3 per image: kh * sc * ci. */
  rows: number;
  /** Elements of X3 (without the kw-1 zeros appended). */
  x3Size: number;
}

function productPlan(info: tf.backend_util.Conv2DInfo): ProductPlan {
  const {
    batchSize: n,
    inChannels: ci,
    outHeight: ho,
    outWidth: wo,
    filterHeight: kh,
    filterWidth: kw,
  } = info;
  const wp = wo + kw - 1;
  const grid = ho * wp;
  // Images per product: K = g * grid near PRODUCT_DEPTH (small maps would make many tiny products).
  const g = Math.max(1, Math.min(n, Math.round(PRODUCT_DEPTH / grid)));
  // Column shifts copied (sc = kw: one product of M = kh*kw*ci per group) or viewed (sc = 1: kw
  // products of M = kh*ci): copies cost memory traffic, small M makes slow products.
  const sc = kh * ci < MIN_PRODUCT_ROWS ? kw : 1;
  const rows = kh * sc * ci;
  return { hp: ho + kh - 1, wp, grid, g, sc, rows, x3Size: n * rows * grid };
}

/** x padded (or cropped) to exactly hp x wp, laid out channel-major: [n, ci, hp*wp]. */
function channelMajorPadded(
  s: WasmKernelScope,
  x: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  { hp, wp }: ProductPlan,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, padInfo } = info;
  const cropped = s.cropNegativePads(x, {
    top: padInfo.top,
    left: padInfo.left,
    bottom: hp - h - padInfo.top,
    right: wp - w - padInfo.left,
  });
  const { top, bottom, left, right } = cropped.pads;
  const xp =
    top + bottom + left + right > 0
      ? s.pad(cropped.x, [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ])
      : cropped.x;
  return s.transpose(s.reshape(xp, [n, hp * wp, ci]), [0, 2, 1]);
}

/**
 * X3: kh row-shifted (and sc column-shifted) copies of each image of x2, grouped g images per product.
 * Group [first, first+size): rows (p, s, c) of size*grid, image i at (i - first)*grid in each; the kw
 * elements past the end are zeros.
 */
function copyShiftedRows(
  s: WasmKernelScope,
  x2: tf.TensorInfo,
  x3: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  { hp, wp, grid, g, sc, rows, x3Size }: ProductPlan,
): void {
  const { batchSize: n, inChannels: ci, filterHeight: kh, filterWidth: kw } = info;
  const heap = s.heapF32();
  const x2At = s.heapOffset(x2) >> 2;
  const x3At = s.heapOffset(x3) >> 2;
  for (let first = 0; first < n; first += g) {
    const size = Math.min(g, n - first);
    for (let img = first; img < first + size; img++) {
      for (let p = 0; p < kh; p++) {
        for (let q = 0; q < sc; q++) {
          for (let c = 0; c < ci; c++) {
            const src = x2At + (img * ci + c) * hp * wp + p * wp + q;
            const row = (p * sc + q) * ci + c;
            const dst = x3At + first * rows * grid + (row * size + (img - first)) * grid;
            // The last q cells of a shifted copy would come from past the image (x2's next row or
            // past its end); they only ever meet Dg's zero columns: zeros, never garbage.
            heap.copyWithin(dst, src, src + grid - q);
            if (q > 0) heap.fill(0, dst + grid - q, dst + grid);
          }
        }
      }
    }
  }
  heap.fill(0, x3At + x3Size, x3At + x3Size + kw);
}

/** dW += the products of X3's groups (on views, one per column shift q0) with Dg's rows of those images. */
function accumulateProducts(
  s: WasmKernelScope,
  x3: tf.TensorInfo,
  dg: tf.TensorInfo,
  dw: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  { grid, g, sc, rows }: ProductPlan,
): void {
  const { batchSize: n, inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw } = info;
  const block = ci * co;
  for (let first = 0; first < n; first += g) {
    const size = Math.min(g, n - first);
    const b = s.view(dg, first * grid * co, [1, size * grid, co]);
    for (let q0 = 0; q0 < kw; q0 += sc) {
      const a = s.view(x3, first * rows * grid + q0, [1, rows, size * grid]);
      const out = s.matMul(a, b); // [1, rows, co]: rows (p, s, ci) for the shift q0 + s
      const heap = s.heapF32();
      const outAt = s.heapOffset(out) >> 2;
      const dwAt = s.heapOffset(dw) >> 2;
      for (let p = 0; p < kh; p++) {
        for (let q = 0; q < sc; q++) {
          const src = outAt + (p * sc + q) * block;
          const dst = dwAt + (p * kw + q0 + q) * block;
          for (let k = 0; k < block; k++) heap[dst + k] += heap[src + k];
        }
      }
      s.release(out);
      s.release(a);
    }
    s.release(b);
  }
}
