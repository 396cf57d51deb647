/** The ceiling a training row is compared to: the backend's forward conv2d FLOP rate on one layer. */
import * as tf from '@tensorflow/tfjs';
import { conv2dFlops } from './flops.js';
import { median } from './median.js';

/** The representative layer of the ceiling: the cnn's conv2 (42x28, 32 -> 64 channels, 3x3, same). */
export const CEILING_LAYER = { h: 42, w: 28, k: 3, cin: 32, cout: 64 } as const;

/**
 * The forward conv2d FLOP rate of the active backend on CEILING_LAYER at `batch` images. Samples are
 * taken between the training steps of a row (at most one per SAMPLE_GAP_MS), so that the ceiling and
 * the training see the same load of a shared machine; the rate is the median sample.
 */
export class CeilingSampler {
  private static readonly SAMPLE_GAP_MS = 250;
  private static readonly MIN_SAMPLES = 5;
  private readonly x: tf.Tensor4D;
  private readonly filter: tf.Tensor4D;
  private readonly times: number[] = [];
  private last = -Infinity;

  constructor(private readonly batch: number) {
    const { h, w, k, cin, cout } = CEILING_LAYER;
    this.x = tf.randomNormal([batch, h, w, cin]) as tf.Tensor4D;
    this.filter = tf.randomNormal([k, k, cin, cout]) as tf.Tensor4D;
    this.run(); // warm-up: XNNPACK packs the filter on the first call
    this.run();
  }

  private run(): number {
    const t0 = performance.now();
    const y = tf.conv2d(this.x, this.filter, 1, 'same');
    const dt = performance.now() - t0;
    y.dispose();
    return dt;
  }

  /** Takes a sample if none was taken in the last SAMPLE_GAP_MS. */
  maybeSample(): void {
    const now = performance.now();
    if (now - this.last < CeilingSampler.SAMPLE_GAP_MS) return;
    this.times.push(this.run());
    this.last = performance.now();
  }

  /** FLOP/s (tops the samples up to MIN_SAMPLES first). */
  rate(): number {
    while (this.times.length < CeilingSampler.MIN_SAMPLES) this.times.push(this.run());
    const { h, w, k, cin, cout } = CEILING_LAYER;
    return conv2dFlops(this.batch, h, w, k, cin, cout) / (median(this.times) / 1000);
  }

  get samples(): number {
    return this.times.length;
  }

  dispose(): void {
    tf.dispose([this.x, this.filter]);
  }
}
