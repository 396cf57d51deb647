/**
 * A small WebAssembly SIMD module, assembled here byte by byte (no toolchain needed), whose functions
 * work directly on the wasm backend's own heap: it imports the backend's WebAssembly.Memory, so
 * tensors are read and written in place by their byte offsets (`dataIdMap.get(dataId).memoryOffset`).
 * It holds the loops that XNNPACK lacks and that are too slow as plain JS:
 *
 * - `max_pool_grad`: NHWC max-pool gradient, 4 channels per SIMD lane group, branch-free argmax;
 * - `column_sum`: sums the rows of a [rows, cols] matrix (the bias gradients: dy summed over N,H,W);
 * - `depthwise_filter_grad`: the filter gradient of a depthwise conv (multiplier 1), NHWC.
 *
 * All need the channel / column count to be a multiple of 4; callers check (`SIMD_LANES`).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { I32, name, section, uleb, vec } from './simd-encoding.js';
import type { FunctionBuilder } from './simd-function-builder.js';
import { columnSum } from './simd-column-sum.js';
import { depthwiseFilterGrad } from './simd-depthwise-filter-grad.js';
import { maxPoolGrad } from './simd-max-pool-grad.js';

/** f32 lanes per v128. */
export const SIMD_LANES = 4;

const FUNCTIONS: ReadonlyArray<[string, number, () => FunctionBuilder]> = [
  ['max_pool_grad', 15, maxPoolGrad],
  ['column_sum', 4, columnSum],
  ['depthwise_filter_grad', 15, depthwiseFilterGrad],
];

function assemble(): Uint8Array {
  const types = FUNCTIONS.map(([, params]) => [0x60, ...vec(new Array(params).fill([I32])), 0x00]);
  const imports = [[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]]; // memory, min 0, no max
  const funcs = FUNCTIONS.map((_, i) => uleb(i));
  const exports = FUNCTIONS.map(([fname], i) => [...name(fname), 0x00, ...uleb(i)]);
  const bodies = FUNCTIONS.map(([, , build]) => build().encode());
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcs)),
    ...section(7, vec(exports)),
    ...section(10, [...uleb(bodies.length), ...bodies.flat()]),
  ]);
}

export interface SimdKernels {
  maxPoolGrad(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
  columnSum(x: number, out: number, rows: number, cols: number): void;
  depthwiseFilterGrad(
    x: number,
    dy: number,
    dw: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
}

/**
 * The few WebAssembly JS API members used here (lib ES2022 and @types/node do not declare the
 * WebAssembly namespace).
 */
interface WasmApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | null | undefined;
const instances = new WeakMap<object, SimdKernels>();

/** The module's bytes (exported for tests). */
export function simdModuleBytes(): Uint8Array {
  return assemble();
}

/**
 * The SIMD kernels bound to `backend`'s heap, or null when this runtime cannot run them (no wasm
 * SIMD, or the backend's memory is not reachable): callers then use their JS / stock path.
 */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WA.Memory)) return null;
  const known = instances.get(memory);
  if (known) return known;
  if (compiled === undefined) {
    try {
      compiled = new WA.Module(assemble());
    } catch {
      compiled = null;
    }
  }
  if (compiled === null) return null;
  const e = new WA.Instance(compiled, { env: { memory } }).exports as Record<
    string,
    (...args: number[]) => void
  >;
  const kernels: SimdKernels = {
    maxPoolGrad: e.max_pool_grad as SimdKernels['maxPoolGrad'],
    columnSum: e.column_sum as SimdKernels['columnSum'],
    depthwiseFilterGrad: e.depthwise_filter_grad as SimdKernels['depthwiseFilterGrad'],
  };
  instances.set(memory, kernels);
  return kernels;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: BackendWasm, dataId: object): number {
  return (backend.dataIdMap.get(dataId) as unknown as { memoryOffset: number }).memoryOffset;
}
