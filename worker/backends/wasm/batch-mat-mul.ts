import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { requireInput, WasmKernelScope } from './kernel-scope.js';

const NAME = 'BatchMatMul';

/**
 * BatchMatMul for backend 'wasm'. The stock kernel runs XNNPACK (fully connected) only for a single
 * matrix product WITHOUT transposes; any transpose falls to a blocked scalar loop ~20x slower. The
 * gradients of every dense layer are such products (dW = x^T dy, dx = dy W^T), so this wrapper
 * transposes the operand explicitly (the wasm Transpose kernel, a copy) and hands the stock kernel a
 * plain product. Batched products (leading dims > 1) and non-float32 inputs go to the stock kernel
 * unchanged.
 */
export function makeBatchMatMulWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const a = requireInput(NAME, args.inputs, 'a');
    const b = requireInput(NAME, args.inputs, 'b');
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args);
    if (leading(a.shape) !== 1 || leading(b.shape) !== 1) return stock(args);
    const s = new WasmKernelScope(args.backend as BackendWasm, NAME);
    try {
      const a2 = transposeA ? transposed(s, a) : a;
      const b2 = transposeB ? transposed(s, b) : b;
      const out = stock({
        inputs: { a: a2, b: b2 },
        backend: args.backend,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
      // The stock kernel shapes its output from its inputs' leading dims: restore the caller's.
      const rank = Math.max(a.shape.length, b.shape.length);
      const shape = [
        ...new Array<number>(rank - 2).fill(1),
        out.shape[out.shape.length - 2],
        out.shape[out.shape.length - 1],
      ];
      return { ...out, shape };
    } finally {
      s.dispose();
    }
  };
}

/** Product of the dims before the last two (the batch of matrices). */
function leading(shape: number[]): number {
  return shape.slice(0, -2).reduce((p, d) => p * d, 1);
}

/** The matrix [.., r, c] as its transpose [c, r] (rank 2; a single matrix). */
function transposed(s: WasmKernelScope, t: tf.TensorInfo): tf.TensorInfo {
  const r = t.shape[t.shape.length - 2];
  const c = t.shape[t.shape.length - 1];
  return s.transpose(s.reshape(t, [r, c]), [1, 0]);
}
