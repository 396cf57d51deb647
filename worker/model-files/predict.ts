/** The two digits a saved model reads in one image, with their probabilities. */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_HEIGHT, IMAGE_WIDTH } from '../data/constants.js';
import { disposeModel } from '../models/dispose.js';
import { readDigitPng } from './image.js';
import { loadModelFiles } from './load.js';

export interface HeadPrediction {
  digit: number;
  probability: number;
  /** Softmax over the 10 classes. */
  probabilities: number[];
}

export interface Prediction {
  image: string;
  top: HeadPrediction;
  bottom: HeadPrediction;
}

function head(probs: number[]): HeadPrediction {
  const digit = probs.indexOf(Math.max(...probs));
  return { digit, probability: probs[digit], probabilities: probs };
}

export async function predictImage(dir: string, image: string): Promise<Prediction> {
  const pixels = readDigitPng(image); // input errors before the model is loaded
  const { model } = await loadModelFiles(dir);
  try {
    const [pt, pb] = tf.tidy(() => {
      const x = tf.tensor4d(pixels, [1, IMAGE_HEIGHT, IMAGE_WIDTH, 1]);
      const [lt, lb] = model.predict(x) as tf.Tensor[];
      return [tf.softmax(lt), tf.softmax(lb)];
    });
    const top = Array.from(await pt.data());
    const bottom = Array.from(await pb.data());
    tf.dispose([pt, pb]);
    return { image, top: head(top), bottom: head(bottom) };
  } finally {
    disposeModel(model);
  }
}
