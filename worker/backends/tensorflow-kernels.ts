/**
 * Faster training kernels for tfjs-node's `tensorflow` backend on CPU (issue 28; docs/PERFORMANCE.md).
 *
 * - `MaxPoolGrad`: tfjs-node runs TensorFlow's MaxPoolGrad op, which on CPU took 74 ms per cnn layer at
 *   batch 64 (37% of the cnn's step). Here: `MaxPoolWithArgmax` (the forward pass with the flat index
 *   of each window's maximum), then `UnsortedSegmentSum` of dy into those indices: the same gradient
 *   (the same first maximum wins a tie: TensorFlow's CPU MaxPoolGrad is built on the same argmax) in a
 *   third of the time.
 * - `Step` with alpha 0 (the ReLU gradient): tfjs-node composes it from 7 ops (isNaN, greater, ones,
 *   fill, where, select); `Sign(Relu(x))` is the same function (1 for x > 0, 0 for x <= 0, NaN for NaN)
 *   in 2 ops. Other alphas keep tfjs-node's kernel.
 * Only on a CPU device: on a GPU TensorFlow's own kernels are kept.
 */
import * as tf from '@tensorflow/tfjs';

/** What these kernels use of tfjs-node's NodeJSKernelBackend (its package is optional: no import). */
interface NativeBackend {
  isUsingGpuDevice: boolean;
  binding: { TF_ATTR_TYPE: number; TF_ATTR_INT: number; TF_ATTR_STRING: number; TF_ATTR_BOOL: number };
  getDTypeInteger(dtype: tf.DataType): number;
  executeSingleOutput(name: string, attrs: unknown[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.Tensor[], outputs: number): tf.Tensor[];
}

function typeAttr(b: NativeBackend, name: string, dtype: tf.DataType) {
  return { name, type: b.binding.TF_ATTR_TYPE, value: b.getDTypeInteger(dtype) };
}

function maxPoolGrad(args: { inputs: tf.NamedTensorMap; backend: unknown; attrs?: unknown }): tf.Tensor {
  const { dy, input } = args.inputs;
  const b = args.backend as NativeBackend;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const padding = info.padInfo.type;
  if ((padding !== 'VALID' && padding !== 'SAME') || input.dtype !== 'float32') {
    throw new Error(`MaxPoolGrad: padding ${padding} on ${input.dtype} is not supported`);
  }
  return tf.tidy(() => {
    const [out, argmax] = b.executeMultipleOutputs(
      'MaxPoolWithArgmax',
      [
        typeAttr(b, 'T', 'float32'),
        typeAttr(b, 'Targmax', 'int32'),
        { name: 'ksize', type: b.binding.TF_ATTR_INT, value: [1, info.filterHeight, info.filterWidth, 1] },
        { name: 'strides', type: b.binding.TF_ATTR_INT, value: [1, info.strideHeight, info.strideWidth, 1] },
        { name: 'padding', type: b.binding.TF_ATTR_STRING, value: padding },
        { name: 'include_batch_in_index', type: b.binding.TF_ATTR_BOOL, value: true },
      ],
      [input],
      2,
    );
    out.dispose();
    const dx = b.executeSingleOutput(
      'UnsortedSegmentSum',
      [typeAttr(b, 'T', 'float32'), typeAttr(b, 'Tindices', 'int32'), typeAttr(b, 'Tnumsegments', 'int32')],
      [tf.reshape(dy, [-1]), tf.reshape(argmax, [-1]), tf.scalar(input.size, 'int32')],
    );
    return tf.reshape(dx, input.shape);
  });
}

let registered = false;

/** Registers the kernels for backend `tensorflow` (after tfjs-node is loaded, once per thread). */
export function registerTensorflowKernels(): void {
  if (registered) return;
  const stock = new Map(tf.getKernelsForBackend('tensorflow').map((k) => [k.kernelName, k]));
  const stockStep = stock.get(tf.Step);
  const stockPoolGrad = stock.get(tf.MaxPoolGrad);
  if (!stockStep || !stockPoolGrad) return;
  tf.unregisterKernel(tf.MaxPoolGrad, 'tensorflow');
  tf.registerKernel({
    kernelName: tf.MaxPoolGrad,
    backendName: 'tensorflow',
    kernelFunc: (args) =>
      (args.backend as NativeBackend).isUsingGpuDevice
        ? stockPoolGrad.kernelFunc(args)
        : maxPoolGrad(args as Parameters<typeof maxPoolGrad>[0]),
  });
  tf.unregisterKernel(tf.Step, 'tensorflow');
  tf.registerKernel({
    kernelName: tf.Step,
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const { alpha } = args.attrs as unknown as tf.StepAttrs;
      const x = args.inputs.x as tf.Tensor; // ops hand kernels their Tensor objects
      if (alpha !== 0 || (args.backend as NativeBackend).isUsingGpuDevice) return stockStep.kernelFunc(args);
      return tf.tidy(() => tf.sign(tf.relu(x)));
    },
  });
  registered = true;
}
