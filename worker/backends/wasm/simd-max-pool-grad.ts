/** The body of one function of the SIMD module (simd-module.ts), emitted with a FunctionBuilder. */
import { I32, V128, memarg, simd } from './simd-encoding.js';
import { FunctionBuilder } from './simd-function-builder.js';

/**
 * max_pool_grad(x, dy, dx, n, h, w, c, ho, wo, kh, kw, sh, sw, top, left): dx (zeroed by the caller)
 * += dy routed to the first strictly greatest in-bounds x of each window (row-major scan), per
 * channel. x, dy, dx are byte offsets into the heap; c % 4 == 0.
 */
export function maxPoolGrad(): FunctionBuilder {
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
