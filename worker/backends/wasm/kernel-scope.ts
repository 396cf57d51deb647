/**
 * Shared plumbing for the wasm gradient kernels: runs the wasm backend's own registered kernels
 * (Conv2D, DepthwiseConv2dNative, Transpose, ...) on TensorInfos, outside the engine, and frees
 * every intermediate it made. The kernels in this folder are compositions of those calls.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { HpoError, WasmKernelUnsupportedError } from '../../../shared/errors.js';

/** What the kernel registry passes a kernel function: { inputs, backend, attrs }. */
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The kernel input `name`, or a clear error naming the kernel. */
export function requireInput(kernelName: string, inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new HpoError(`wasm kernel ${kernelName}: input '${name}' is missing`);
  return t;
}

/** Spatial padding of an NHWC tensor (may be negative: a crop). */
export interface SpatialPads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** [[0,0],[top,bottom],[left,right],[0,0]]: tfjs' explicit NHWC padding. */
function explicitPad(p: SpatialPads): number[][] {
  return [
    [0, 0],
    [p.top, p.bottom],
    [p.left, p.right],
    [0, 0],
  ];
}

/** `value` as a [height, width] pair (tfjs accepts a number for both). */
export function pair(value: number | number[]): [number, number] {
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
}

/** Attributes shared by the two depthwise backprop kernels. */
export type DepthwiseBackpropAttrs = Pick<
  tf.DepthwiseConv2dNativeBackpropInputAttrs,
  'strides' | 'dilations' | 'pad' | 'dimRoundingMode'
>;

/**
 * Conv info of a depthwise backprop kernel (input `xShape`, filter `filterShape`); throws
 * WasmKernelUnsupportedError for dilations > 1, which tfjs' own gradient never asks for.
 */
export function depthwiseBackpropInfo(
  name: string,
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: DepthwiseBackpropAttrs,
): tf.backend_util.Conv2DInfo {
  const [dh, dw] = pair(attrs.dilations ?? 1);
  if (dh !== 1 || dw !== 1) {
    throw new WasmKernelUnsupportedError(name, `dilations [${dh},${dw}]`, 'only dilation 1 is implemented');
  }
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

/**
 * Runs wasm kernels and remembers their outputs; `dispose()` frees all of them except the ones
 * handed out with `keep()`. Use one per kernel invocation:
 *
 *     const s = new WasmKernelScope(backend, 'Conv2DBackpropFilter');
 *     try { ...; return s.keep(result); } finally { s.dispose(); }
 */
export class WasmKernelScope {
  private temps: tf.TensorInfo[] = [];
  private views: tf.TensorInfo[] = [];

  constructor(
    readonly backend: BackendWasm,
    private readonly owner: string,
  ) {}

  private run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
    const config = tf.getKernel(kernelName, 'wasm');
    if (config === undefined) {
      throw new HpoError(
        `wasm kernel ${this.owner}: needs the wasm kernel '${kernelName}', which is not registered ` +
          `(is '@tensorflow/tfjs-backend-wasm' loaded?)`,
      );
    }
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      throw new HpoError(`wasm kernel ${this.owner}: '${kernelName}' returned several tensors`);
    }
    this.temps.push(out);
    return out;
  }

  /** Removes `t` from the intermediates (the caller now owns it) and returns it. */
  keep(t: tf.TensorInfo): tf.TensorInfo {
    const i = this.temps.indexOf(t);
    if (i >= 0) this.temps.splice(i, 1);
    return t;
  }

  /** Frees every intermediate not kept. Reshapes share data: each holds one reference. */
  dispose(): void {
    for (const v of this.views) this.dropView(v);
    this.views = [];
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps = [];
  }

  /** Frees the intermediate `t` now (it must come from this scope and not be kept). */
  release(t: tf.TensorInfo): void {
    const i = this.temps.indexOf(t);
    if (i >= 0) {
      this.temps.splice(i, 1);
      this.backend.disposeData(t.dataId);
      return;
    }
    const j = this.views.indexOf(t);
    if (j >= 0) {
      this.views.splice(j, 1);
      this.dropView(t);
    }
  }

  /** A new uninitialised float32 tensor of `shape` (an intermediate). */
  alloc(shape: number[]): tf.TensorInfo {
    const t = this.backend.makeOutput(shape, 'float32');
    this.temps.push(t);
    return t;
  }

  /**
   * A float32 tensor of `shape` over the memory of `base` from element `elementOffset` on, without
   * a copy. It must lie inside `base`'s allocation, and must not outlive `base` nor be kept: it is
   * unregistered (never freed: the memory is `base`'s) by `release` or `dispose`.
   */
  view(base: tf.TensorInfo, elementOffset: number, shape: number[]): tf.TensorInfo {
    const offset = this.heapOffset(base) + 4 * elementOffset;
    const t = this.backend.makeOutput(shape, 'float32', offset);
    this.views.push(t);
    return t;
  }

  private dropView(t: tf.TensorInfo): void {
    const data = this.backend.dataIdMap.get(t.dataId);
    if (data === undefined) return;
    // Unregisters it from the C++ side (which also drops any XNNPACK operator cached for it).
    this.backend.wasm.tfjs.disposeData(data.id);
    this.backend.dataIdMap.delete(t.dataId);
  }

  /** Byte offset of `t`'s data in the wasm heap. */
  heapOffset(t: tf.TensorInfo): number {
    return this.backend.dataIdMap.get(t.dataId).memoryOffset;
  }

  /** The heap as float32 (fetch it again after any allocation: a heap growth replaces it). */
  heapF32(): Float32Array {
    return (this.backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32;
  }

  /** a [1, M, K] x b [1, K, N] -> [1, M, N] (XNNPACK fully connected through the wasm kernel). */
  matMul(a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
    return this.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  reverse(x: tf.TensorInfo, dims: number[]): tf.TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  sum(x: tf.TensorInfo, axis: number[]): tf.TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  pad(x: tf.TensorInfo, paddings: number[][]): tf.TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /** Forward NHWC conv2d, stride 1, explicit zero padding `pads`, dilation `dilations`. */
  conv2d(
    x: tf.TensorInfo,
    filter: tf.TensorInfo,
    dilations: [number, number],
    pads: SpatialPads,
  ): tf.TensorInfo {
    return this.run(
      'Conv2D',
      { x, filter },
      { strides: [1, 1], pad: explicitPad(pads), dataFormat: 'NHWC', dilations },
    );
  }

  /** Forward NHWC depthwise conv2d, stride 1, explicit zero padding `pads`, dilation `dilations`. */
  depthwiseConv2d(
    x: tf.TensorInfo,
    filter: tf.TensorInfo,
    dilations: [number, number],
    pads: SpatialPads,
  ): tf.TensorInfo {
    return this.run(
      'DepthwiseConv2dNative',
      { x, filter },
      { strides: [1, 1], pad: explicitPad(pads), dilations },
    );
  }

  /**
   * Zero insertion for strided transposed convolutions: [N,H,W,C] -> [N,H*sh,W*sw,C] with
   * x[n,i,j,c] at (i*sh, j*sw) and zeros elsewhere (the last sh-1 rows / sw-1 columns are zeros).
   */
  insertZeros(x: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo {
    if (sh === 1 && sw === 1) return x;
    const [n, h, w, c] = x.shape;
    const six = this.reshape(x, [n, h, 1, w, 1, c]);
    const padded = this.pad(six, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    return this.reshape(padded, [n, h * sh, w * sw, c]);
  }

  /**
   * Applies the negative parts of `pads` to `x` [N,H,W,C] as a crop and returns the cropped tensor
   * with the remaining (non-negative) padding, to be given to a conv as explicit padding.
   */
  cropNegativePads(x: tf.TensorInfo, pads: SpatialPads): { x: tf.TensorInfo; pads: SpatialPads } {
    const cut = {
      top: Math.max(0, -pads.top),
      bottom: Math.max(0, -pads.bottom),
      left: Math.max(0, -pads.left),
      right: Math.max(0, -pads.right),
    };
    const rest = {
      top: Math.max(0, pads.top),
      bottom: Math.max(0, pads.bottom),
      left: Math.max(0, pads.left),
      right: Math.max(0, pads.right),
    };
    if (cut.top + cut.bottom + cut.left + cut.right === 0) return { x, pads: rest };
    const [n, h, w, c] = x.shape;
    const cropped = this.slice(
      x,
      [0, cut.top, cut.left, 0],
      [n, h - cut.top - cut.bottom, w - cut.left - cut.right, c],
    );
    return { x: cropped, pads: rest };
  }
}
