/** The body of one function of the SIMD module (simd-module.ts), emitted with a FunctionBuilder. */
import { I32, memarg, simd } from './simd-encoding.js';
import { FunctionBuilder } from './simd-function-builder.js';

/** column_sum(x, out, rows, cols): out[c] = sum_r x[r, c] (byte offsets; cols % 4 == 0). */
export function columnSum(): FunctionBuilder {
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
