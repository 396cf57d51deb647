/** The body of one function of the SIMD module (simd-module.ts), emitted with a FunctionBuilder. */
import { I32, V128, memarg, simd } from './simd-encoding.js';
import { FunctionBuilder } from './simd-function-builder.js';

/**
 * depthwise_filter_grad(x, dy, dw, n, h, w, c, ho, wo, kh, kw, sh, sw, top, left): the filter
 * gradient of a depthwise conv with multiplier 1, dw[p,q,c] (zeroed by the caller) += x[b, i*sh - top
 * + p, j*sw - left + q, c] * dy[b,i,j,c] over in-bounds positions. Byte offsets; c % 4 == 0.
 */
export function depthwiseFilterGrad(): FunctionBuilder {
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
