/** Reads one 42x28 grayscale PNG (the data set's image format) as pixels in [0, 1]. */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { IMAGE_HEIGHT, IMAGE_WIDTH } from '../data/constants.js';
import { UsageError } from '../../shared/errors.js';

const COLOR_TYPES: Record<number, string> = {
  0: 'grayscale',
  2: 'RGB',
  3: 'palette',
  4: 'grayscale with alpha',
  6: 'RGBA',
};

/** Row-major [42 * 28] pixels scaled to [0, 1]; a UsageError naming the file for anything else. */
export function readDigitPng(file: string): Float32Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, {
      cause: err,
    });
  }
  let png: PNG & { colorType?: number; depth?: number };
  try {
    png = PNG.sync.read(bytes) as PNG & { colorType?: number; depth?: number };
  } catch (err) {
    throw new UsageError(`${file}: not a PNG image (${(err as Error).message})`, { cause: err });
  }
  const problems: string[] = [];
  if (png.width !== IMAGE_WIDTH || png.height !== IMAGE_HEIGHT) {
    problems.push(`it is ${png.width}x${png.height} (width x height)`);
  }
  if (png.colorType !== 0) {
    problems.push(`its colour type is ${COLOR_TYPES[png.colorType ?? -1] ?? `#${png.colorType}`}`);
  }
  if (problems.length > 0) {
    throw new UsageError(
      `${file}: expected a ${IMAGE_WIDTH}x${IMAGE_HEIGHT} (width x height) grayscale PNG, but ${problems.join(' and ')} ` +
        `(hpo data sample writes one from the data set)`,
    );
  }
  // pngjs expands every pixel to RGBA (8 bits per channel); for grayscale R = G = B.
  const pixels = new Float32Array(IMAGE_WIDTH * IMAGE_HEIGHT);
  for (let i = 0; i < pixels.length; i++) pixels[i] = png.data[i * 4] / 255;
  return pixels;
}

/** Encodes one data-set image (uint8, 42x28) as a grayscale PNG. */
export function encodeDigitPng(image: Uint8Array): Buffer {
  if (image.length !== IMAGE_WIDTH * IMAGE_HEIGHT) {
    throw new UsageError(`expected ${IMAGE_WIDTH * IMAGE_HEIGHT} pixels, got ${image.length}`);
  }
  const png = new PNG({
    width: IMAGE_WIDTH,
    height: IMAGE_HEIGHT,
    colorType: 0,
    inputColorType: 0,
    bitDepth: 8,
  });
  const rgba = Buffer.alloc(IMAGE_WIDTH * IMAGE_HEIGHT * 4);
  for (let i = 0; i < image.length; i++) {
    rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = image[i];
    rgba[i * 4 + 3] = 255;
  }
  png.data = rgba;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 6 });
}
