/**
 * Floating-point operations per image of a tf.layers model, counted from its layers.
 *
 * A multiply-add is 2 FLOPs; bias adds, activations, pooling, cropping and the loss are not counted
 * (they are a fraction of a percent of the conv models). Per application of a layer to an input
 * (a layer shared by two towers, as in scnn2 / scnn3, counts twice), with H' x W' its output size:
 *
 * - Conv2D            2 * H' * W' * kh * kw * Cin * Cout
 * - DepthwiseConv2D   2 * H' * W' * kh * kw * Cin * M                    (M: depth multiplier)
 * - SeparableConv2D   the depthwise part above + 2 * H' * W' * (Cin * M) * Cout (the 1x1 pointwise)
 * - Dense             2 * in * out (times any extra leading dims of its input)
 *
 * Training = forward + backward, with the backward counted as 2x the forward (one product for the
 * input gradient, one for the weight gradient, each the size of the forward one). This slightly
 * over-counts: the first layer needs no input gradient (for the cnn, 0.5% of its FLOPs).
 */
import type * as tf from '@tensorflow/tfjs';

/** Backward / forward FLOP ratio used for training. */
export const BACKWARD_FACTOR = 2;

export interface LayerFlops {
  name: string;
  className: string;
  /** How many times the layer is applied in the model. */
  applications: number;
  /** Forward FLOPs per image, over all applications. */
  forward: number;
}

export interface ModelFlops {
  /** Forward FLOPs per image. */
  forward: number;
  /** Training FLOPs per image: forward * (1 + BACKWARD_FACTOR). */
  training: number;
  layers: LayerFlops[];
}

type Shape = (number | null)[];

/** The parts of a tfjs-layers Node used here (not exported by @tensorflow/tfjs's typings). */
interface InboundNode {
  inputShapes: Shape | Shape[];
  outputShapes: Shape | Shape[];
}

function single(shapes: Shape | Shape[]): Shape {
  return Array.isArray(shapes[0]) ? (shapes as Shape[])[0] : (shapes as Shape);
}

/** Product of the dims of `shape` from `from` to `to` (exclusive); null (batch) dims are skipped. */
function product(shape: Shape, from: number, to: number): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= shape[i] ?? 1;
  return p;
}

function weightShapes(layer: tf.layers.Layer): number[][] {
  return layer.weights.map((w) => w.shape as number[]);
}

/** Forward FLOPs of one application of `layer` to one image, given its input and output shapes. */
function applicationFlops(layer: tf.layers.Layer, input: Shape, output: Shape): number {
  const weights = weightShapes(layer);
  switch (layer.getClassName()) {
    case 'Conv2D': {
      const [kh, kw, cin, cout] = weights[0];
      return 2 * product(output, 1, 3) * kh * kw * cin * cout;
    }
    case 'DepthwiseConv2D': {
      const [kh, kw, cin, m] = weights[0];
      return 2 * product(output, 1, 3) * kh * kw * cin * m;
    }
    case 'SeparableConv2D': {
      const [kh, kw, cin, m] = weights[0];
      const [, , cm, cout] = weights[1];
      const pixels = product(output, 1, 3);
      return 2 * pixels * kh * kw * cin * m + 2 * pixels * cm * cout;
    }
    case 'Dense': {
      const [units, outUnits] = weights[0];
      return 2 * product(input, 1, input.length - 1) * units * outUnits;
    }
    default:
      return 0;
  }
}

/** FLOPs per image of `model` (see the file comment for what is counted). */
export function modelFlops(model: tf.LayersModel): ModelFlops {
  const layers: LayerFlops[] = [];
  for (const layer of model.layers) {
    const nodes = (layer as unknown as { inboundNodes: InboundNode[] }).inboundNodes;
    let forward = 0;
    for (const node of nodes) {
      forward += applicationFlops(layer, single(node.inputShapes), single(node.outputShapes));
    }
    layers.push({ name: layer.name, className: layer.getClassName(), applications: nodes.length, forward });
  }
  const forward = layers.reduce((s, l) => s + l.forward, 0);
  return { forward, training: forward * (1 + BACKWARD_FACTOR), layers };
}

/** FLOPs of one forward NHWC conv2d (stride 1, 'same'): 2 * N * H * W * kh * kw * Cin * Cout. */
export function conv2dFlops(n: number, h: number, w: number, k: number, cin: number, cout: number): number {
  return 2 * n * h * w * k * k * cin * cout;
}
