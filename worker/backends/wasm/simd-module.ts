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

/** f32 lanes per v128. */
export const SIMD_LANES = 4;

// ---- encoding helpers -------------------------------------------------------------------------

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

const I32 = 0x7f;
const V128 = 0x7b;
type ValType = typeof I32 | typeof V128;

/** SIMD instruction: 0xfd prefix + LEB128 opcode. */
const simd = (opcode: number): number[] => [0xfd, ...uleb(opcode)];
/** memarg: alignment (log2 bytes) and constant offset. */
const memarg = (alignLog2: number, offset = 0): number[] => [...uleb(alignLog2), ...uleb(offset)];

/** Emits one function body with structured loops; locals are numbered after the parameters. */
class FunctionBuilder {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly params: number) {}

  local(type: ValType): number {
    this.locals.push(type);
    return this.params + this.locals.length - 1;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  i32(v: number): this {
    return this.op(0x41, ...sleb(v));
  }
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  /** Sets local `dst` = a (op) b for locals / constants. */
  assign(dst: number, emit: () => void): this {
    emit();
    return this.set(dst);
  }
  /** max(local a, constant/zero) etc. via select: pushes (cond ? x : y). */
  select(x: () => void, y: () => void, cond: () => void): this {
    x();
    y();
    cond();
    return this.op(0x1b);
  }

  /** for (v = from; v < to; v += step) body — `from`, `to` emit one i32 each; step a constant. */
  forRange(v: number, from: () => void, to: () => void, step: number, body: () => void): this {
    from();
    this.set(v);
    this.op(0x02, 0x40, 0x03, 0x40); // block, loop
    this.get(v);
    to();
    this.op(0x4e, 0x0d, 0x01); // i32.ge_s; br_if 1 (out of the block)
    body();
    this.get(v).i32(step).add().set(v);
    this.op(0x0c, 0x00, 0x0b, 0x0b); // br 0 (loop); end; end
    return this;
  }

  /** for (v = from; v < to; v += local step) body. */
  forRangeBy(v: number, from: () => void, to: () => void, stepLocal: number, body: () => void): this {
    from();
    this.set(v);
    this.op(0x02, 0x40, 0x03, 0x40);
    this.get(v);
    to();
    this.op(0x4e, 0x0d, 0x01);
    body();
    this.get(v).get(stepLocal).add().set(v);
    this.op(0x0c, 0x00, 0x0b, 0x0b);
    return this;
  }

  encode(): number[] {
    const groups: number[][] = [];
    for (const t of this.locals) groups.push([1, t]);
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

// ---- the functions ------------------------------------------------------------------------------

/**
 * max_pool_grad(x, dy, dx, n, h, w, c, ho, wo, kh, kw, sh, sw, top, left): dx (zeroed by the caller)
 * += dy routed to the first strictly greatest in-bounds x of each window (row-major scan), per
 * channel. x, dy, dx are byte offsets into the heap; c % 4 == 0.
 */
function maxPoolGrad(): FunctionBuilder {
  const f = new FunctionBuilder(15);
  const [x, dy, dx, n, h, w, c, ho, wo, kh, kw, sh, sw, top, left] = [...Array(15).keys()];
  const L = () => f.local(I32);
  const b = L(),
    i = L(),
    j = L(),
    k = L(),
    r = L(),
    col = L();
  const rFrom = L(),
    rTo = L(),
    cFrom = L(),
    cTo = L(),
    r0 = L(),
    c0 = L();
  const pix = L(),
    rowStride = L(),
    imgBase = L(),
    imgStride = L(),
    rowBase = L(),
    off = L(),
    dyp = L(),
    o = L();
  const best = f.local(V128),
    idx = f.local(V128),
    v = f.local(V128),
    gt = f.local(V128),
    lanes = f.local(V128);

  // lanes = [0, 4, 8, 12] (byte offsets of the 4 channels of a group)
  f.op(...simd(0x0c), ...[0, 4, 8, 12].flatMap((n4) => [n4, 0, 0, 0])).set(lanes);
  f.assign(pix, () => f.get(c).i32(4).mul());
  f.assign(rowStride, () => f.get(w).get(pix).mul());
  f.assign(imgStride, () => f.get(h).get(rowStride).mul());
  f.assign(dyp, () => f.get(dy));
  f.assign(imgBase, () => f.i32(0));
  const zero = () => f.i32(0);
  f.forRange(
    b,
    zero,
    () => f.get(n),
    1,
    () => {
      f.forRange(
        i,
        zero,
        () => f.get(ho),
        1,
        () => {
          f.assign(r0, () => f.get(i).get(sh).mul().get(top).sub());
          // rFrom = r0 > 0 ? r0 : 0;  rTo = r0 + kh < h ? r0 + kh : h
          f.select(
            () => f.get(r0),
            zero,
            () => f.get(r0).i32(0).op(0x4a),
          ).set(rFrom);
          f.select(
            () => f.get(r0).get(kh).add(),
            () => f.get(h),
            () => f.get(r0).get(kh).add().get(h).op(0x48),
          ).set(rTo);
          f.forRange(
            j,
            zero,
            () => f.get(wo),
            1,
            () => {
              f.assign(c0, () => f.get(j).get(sw).mul().get(left).sub());
              f.select(
                () => f.get(c0),
                zero,
                () => f.get(c0).i32(0).op(0x4a),
              ).set(cFrom);
              f.select(
                () => f.get(c0).get(kw).add(),
                () => f.get(w),
                () => f.get(c0).get(kw).add().get(w).op(0x48),
              ).set(cTo);
              f.forRange(
                k,
                zero,
                () => f.get(pix),
                16,
                () => {
                  // best = splat(-inf); idx = splat(-1)
                  f.op(0x43, 0x00, 0x00, 0x80, 0xff)
                    .op(...simd(0x13))
                    .set(best);
                  f.i32(-1)
                    .op(...simd(0x11))
                    .set(idx);
                  f.forRange(
                    r,
                    () => f.get(rFrom),
                    () => f.get(rTo),
                    1,
                    () => {
                      f.assign(rowBase, () => f.get(imgBase).get(r).get(rowStride).mul().add().get(k).add());
                      f.forRange(
                        col,
                        () => f.get(cFrom),
                        () => f.get(cTo),
                        1,
                        () => {
                          f.assign(off, () => f.get(rowBase).get(col).get(pix).mul().add());
                          f.get(x)
                            .get(off)
                            .add()
                            .op(...simd(0x00), ...memarg(2))
                            .set(v); // v128.load
                          f.get(v)
                            .get(best)
                            .op(...simd(0x44))
                            .set(gt); // f32x4.gt
                          f.get(v)
                            .get(best)
                            .get(gt)
                            .op(...simd(0x52))
                            .set(best); // bitselect
                          f.get(off)
                            .op(...simd(0x11))
                            .get(lanes)
                            .op(...simd(0xae)); // splat(off) + lanes
                          f.get(idx)
                            .get(gt)
                            .op(...simd(0x52))
                            .set(idx);
                        },
                      );
                    },
                  );
                  for (let lane = 0; lane < 4; lane++) {
                    f.get(idx)
                      .op(...simd(0x1b), lane)
                      .set(o); // i32x4.extract_lane
                    f.get(o).i32(0).op(0x4e); // o >= 0
                    f.op(0x04, 0x40); // if
                    f.get(dx).get(o).add(); // address for the store
                    f.get(dx)
                      .get(o)
                      .add()
                      .op(0x2a, ...memarg(2)); // f32.load dx[o]
                    f.get(dyp).op(0x2a, ...memarg(2, lane * 4)); // f32.load dy lane
                    f.op(0x92); // f32.add
                    f.op(0x38, ...memarg(2)); // f32.store
                    f.op(0x0b); // end if
                  }
                  f.assign(dyp, () => f.get(dyp).i32(16).add());
                },
              );
            },
          );
        },
      );
      f.assign(imgBase, () => f.get(imgBase).get(imgStride).add());
    },
  );
  return f;
}

/**
 * depthwise_filter_grad(x, dy, dw, n, h, w, c, ho, wo, kh, kw, sh, sw, top, left): the filter
 * gradient of a depthwise conv with multiplier 1, dw[p,q,c] (zeroed by the caller) += x[b, i*sh - top
 * + p, j*sw - left + q, c] * dy[b,i,j,c] over in-bounds positions. Byte offsets; c % 4 == 0.
 */
function depthwiseFilterGrad(): FunctionBuilder {
  const f = new FunctionBuilder(15);
  const [x, dy, dw, n, h, w, c, ho, wo, kh, kw, sh, sw, top, left] = [...Array(15).keys()];
  const L = () => f.local(I32);
  const b = L(),
    i = L(),
    j = L(),
    p = L(),
    q = L(),
    k = L(),
    r = L(),
    col = L();
  const pix = L(),
    rowStride = L(),
    imgBase = L(),
    imgStride = L(),
    dyp = L(),
    xp = L(),
    wp = L(),
    r0 = L(),
    c0 = L();
  const dyv = f.local(V128);
  const zero = () => f.i32(0);
  f.assign(pix, () => f.get(c).i32(4).mul());
  f.assign(rowStride, () => f.get(w).get(pix).mul());
  f.assign(imgStride, () => f.get(h).get(rowStride).mul());
  f.assign(dyp, () => f.get(dy));
  f.assign(imgBase, () => f.get(x));
  f.forRange(
    b,
    zero,
    () => f.get(n),
    1,
    () => {
      f.forRange(
        i,
        zero,
        () => f.get(ho),
        1,
        () => {
          f.assign(r0, () => f.get(i).get(sh).mul().get(top).sub());
          f.forRange(
            j,
            zero,
            () => f.get(wo),
            1,
            () => {
              f.assign(c0, () => f.get(j).get(sw).mul().get(left).sub());
              f.forRange(
                p,
                zero,
                () => f.get(kh),
                1,
                () => {
                  f.assign(r, () => f.get(r0).get(p).add());
                  // if (r >= 0 && r < h)  (unsigned compare: r < h as u32 covers both)
                  f.get(r).get(h).op(0x49).op(0x04, 0x40);
                  f.forRange(
                    q,
                    zero,
                    () => f.get(kw),
                    1,
                    () => {
                      f.assign(col, () => f.get(c0).get(q).add());
                      f.get(col).get(w).op(0x49).op(0x04, 0x40);
                      f.assign(xp, () =>
                        f.get(imgBase).get(r).get(rowStride).mul().add().get(col).get(pix).mul().add(),
                      );
                      f.assign(wp, () => f.get(dw).get(p).get(kw).mul().get(q).add().get(pix).mul().add());
                      f.forRange(
                        k,
                        zero,
                        () => f.get(pix),
                        16,
                        () => {
                          f.get(dyp)
                            .get(k)
                            .add()
                            .op(...simd(0x00), ...memarg(2))
                            .set(dyv);
                          f.get(wp).get(k).add(); // store address
                          f.get(wp)
                            .get(k)
                            .add()
                            .op(...simd(0x00), ...memarg(2));
                          f.get(xp)
                            .get(k)
                            .add()
                            .op(...simd(0x00), ...memarg(2));
                          f.get(dyv).op(...simd(0xe6)); // f32x4.mul
                          f.op(...simd(0xe4)); // f32x4.add
                          f.op(...simd(0x0b), ...memarg(2));
                        },
                      );
                      f.op(0x0b); // end if (col)
                    },
                  );
                  f.op(0x0b); // end if (r)
                },
              );
              f.assign(dyp, () => f.get(dyp).get(pix).add());
            },
          );
        },
      );
      f.assign(imgBase, () => f.get(imgBase).get(imgStride).add());
    },
  );
  return f;
}

/** column_sum(x, out, rows, cols): out[c] = sum_r x[r, c] (byte offsets; cols % 4 == 0). */
function columnSum(): FunctionBuilder {
  const f = new FunctionBuilder(4);
  const [x, out, rows, cols] = [0, 1, 2, 3];
  const k = f.local(I32),
    rowBytes = f.local(I32),
    p = f.local(I32),
    end = f.local(I32);
  const zero = () => f.i32(0);
  f.assign(rowBytes, () => f.get(cols).i32(4).mul());
  // out = 0
  f.forRange(
    k,
    zero,
    () => f.get(rowBytes),
    16,
    () => {
      f.get(out).get(k).add();
      f.op(...simd(0x0c), ...new Array<number>(16).fill(0));
      f.op(...simd(0x0b), ...memarg(2)); // v128.store
    },
  );
  // out += each row
  f.assign(end, () => f.get(x).get(rows).get(rowBytes).mul().add());
  f.forRangeBy(
    p,
    () => f.get(x),
    () => f.get(end),
    rowBytes,
    () => {
      f.forRange(
        k,
        zero,
        () => f.get(rowBytes),
        16,
        () => {
          f.get(out).get(k).add(); // store address
          f.get(out)
            .get(k)
            .add()
            .op(...simd(0x00), ...memarg(2));
          f.get(p)
            .get(k)
            .add()
            .op(...simd(0x00), ...memarg(2));
          f.op(...simd(0xe4)); // f32x4.add
          f.op(...simd(0x0b), ...memarg(2));
        },
      );
    },
  );
  return f;
}

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
