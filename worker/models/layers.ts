/**
 * Seeded layer builders shared by the architectures. Every initializer gets its own seed drawn from
 * a per-model counter, so the same model seed gives the same initial weights on any backend.
 */
import * as tf from '@tensorflow/tfjs';

export interface LayerFactoryOptions {
  /** Base seed of the model; each layer derives its own seed from it. */
  seed: number;
}

/** Hands out seeded layers; one per model build. */
export class LayerFactory {
  private next = 0;

  constructor(private readonly options: LayerFactoryOptions) {}

  private init(): ReturnType<typeof tf.initializers.glorotUniform> {
    // Distinct, reproducible seed per initializer: tfjs seeds its alea generator with this number.
    const seed = (this.options.seed >>> 0) * 1009 + ++this.next;
    return tf.initializers.glorotUniform({ seed });
  }

  /** 3x3 convolution, stride 1, same padding, ReLU. */
  conv(filters: number, name: string): tf.layers.Layer {
    return tf.layers.conv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: this.init(),
      name,
    });
  }

  /** 3x3 depthwise-separable convolution (depth multiplier 1), same padding, ReLU. */
  separableConv(filters: number, name: string): tf.layers.Layer {
    return tf.layers.separableConv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      depthwiseInitializer: this.init(),
      pointwiseInitializer: this.init(),
      name,
    });
  }

  /** The report's pooling: 3x3 window, stride 1, same padding (keeps the size). */
  poolKeep(name: string): tf.layers.Layer {
    return tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same', name });
  }

  /** 2x2 window, stride 2, valid padding: halves the feature map (rounding down). */
  poolShrink(name: string): tf.layers.Layer {
    return tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name });
  }

  dense(units: number, name: string, activation: 'relu' | 'linear' = 'linear'): tf.layers.Layer {
    return tf.layers.dense({ units, activation, kernelInitializer: this.init(), name });
  }
}

/** Rows 0-27 of the 42x28 image: the top digit's 28x28 square. */
export function topCrop(): tf.layers.Layer {
  return tf.layers.cropping2D({
    cropping: [
      [0, 14],
      [0, 0],
    ],
    name: 'top_crop',
  });
}

/** Rows 14-41 of the 42x28 image: the bottom digit's 28x28 square. */
export function bottomCrop(): tf.layers.Layer {
  return tf.layers.cropping2D({
    cropping: [
      [14, 0],
      [0, 0],
    ],
    name: 'bottom_crop',
  });
}

/** Applies layers in order. */
export function chain(input: tf.SymbolicTensor, layers: tf.layers.Layer[]): tf.SymbolicTensor {
  return layers.reduce((x, layer) => layer.apply(x) as tf.SymbolicTensor, input);
}
