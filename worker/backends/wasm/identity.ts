import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { requireInput } from './kernel-scope.js';

/**
 * Identity for backend 'wasm' without a copy. The stock wasm kernel copies the whole buffer, and
 * tfjs-core's engine clones (Identity) every input and output it saves for the backward pass: a
 * training step of the cnn copied ~65 tensors for nothing. Tensor data on the wasm heap is never
 * written in place (every kernel writes a new output), so the clone can share the buffer under a
 * reference count, as the wasm Reshape kernel and the cpu backend's Identity already do. Strings go
 * to the stock kernel.
 */
export function makeIdentityWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = requireInput('Identity', args.inputs, 'x');
    if (x.dtype === 'string') return stock(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}
