import type * as tf from '@tensorflow/tfjs';

/**
 * Frees a model's weights, including those of layers applied more than once (shared towers). tfjs-layers
 * counts a reference per application of a layer while `model.dispose()` releases one, so the weights of
 * a layer used for both crops (scnn2, scnn3) would otherwise stay allocated.
 */
export function disposeModel(model: tf.LayersModel): void {
  const layers = model.layers;
  model.dispose();
  for (const layer of layers) {
    try {
      while (layer.dispose().refCountAfterDispose > 0);
    } catch (err) {
      // The model's dispose already brought this layer's count to zero.
      if (!(err instanceof Error && /already disposed/.test(err.message))) throw err;
    }
  }
}
