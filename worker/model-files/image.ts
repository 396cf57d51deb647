/** Reads one 42x28 grayscale PNG (the data set's image format) as pixels in [0, 1]. */
import { closeSync, openSync, readSync } from 'node:fs';
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

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Signature (8) + IHDR length (4) + 'IHDR' (4) + width (4) + height (4) + bit depth (1) + colour type (1). */
const HEADER_BYTES = 26;

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
}

function fileError(file: string, err: unknown): UsageError {
  const code = (err as NodeJS.ErrnoException).code;
  return new UsageError(
    `${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, expected a PNG file' : (err as Error).message}`,
    { cause: err },
  );
}

/** The size and colour type a PNG declares in its IHDR chunk, read from its first 26 bytes (nothing decoded). */
export function readPngHeader(file: string): PngHeader {
  const head = Buffer.alloc(HEADER_BYTES);
  let read: number;
  try {
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, head, 0, HEADER_BYTES, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw fileError(file, err);
  }
  if (
    read < HEADER_BYTES ||
    !head.subarray(0, 8).equals(PNG_SIGNATURE) ||
    head.toString('latin1', 12, 16) !== 'IHDR'
  ) {
    throw new UsageError(`${file}: not a PNG image (no PNG signature and IHDR header)`);
  }
  return {
    width: head.readUInt32BE(16),
    height: head.readUInt32BE(20),
    bitDepth: head[24],
    colorType: head[25],
  };
}

function expectedDigit(file: string, problems: string[]): UsageError {
  return new UsageError(
    `${file}: expected a ${IMAGE_WIDTH}x${IMAGE_HEIGHT} (width x height) grayscale PNG, but ${problems.join(' and ')} ` +
      `(hpo data sample writes one from the data set)`,
  );
}

function problemsOf(width: number, height: number, colorType: number | undefined): string[] {
  const problems: string[] = [];
  if (width !== IMAGE_WIDTH || height !== IMAGE_HEIGHT)
    problems.push(`it is ${width}x${height} (width x height)`);
  if (colorType !== 0) problems.push(`its colour type is ${COLOR_TYPES[colorType ?? -1] ?? `#${colorType}`}`);
  return problems;
}

/**
 * Refuses, from the header alone, a file that is not a 42x28 grayscale PNG: a small file declaring a huge
 * image is never decoded (decoding 20000x20000 would take seconds and gigabytes).
 */
export function checkDigitPngHeader(file: string): void {
  const header = readPngHeader(file);
  const problems = problemsOf(header.width, header.height, header.colorType);
  if (problems.length > 0) throw expectedDigit(file, problems);
}

/**
 * Most bytes of a file read for one image. A 42x28 8-bit grayscale image is 1,204 bytes before
 * compression (2,380 at 16 bits); what is over is room for ancillary chunks. Nothing past it is read:
 * a huge trailing payload costs nothing.
 */
export const MAX_DIGIT_PNG_BYTES = 64 * 1024;

/** The file's first MAX_DIGIT_PNG_BYTES + 1 bytes at most (one more tells the file is longer). */
function readBounded(file: string): Buffer {
  const buf = Buffer.alloc(MAX_DIGIT_PNG_BYTES + 1);
  let size = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      for (let n = -1; n !== 0 && size < buf.length; size += n)
        n = readSync(fd, buf, size, buf.length - size, size);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw fileError(file, err);
  }
  return buf.subarray(0, size);
}

/** Chunks the decoder needs. */
const CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);

/**
 * The PNG's signature and critical chunks up to IEND, from at most MAX_DIGIT_PNG_BYTES of it; the one
 * IHDR (a second is refused) must declare a 42x28 grayscale image. Nothing is decoded here.
 */
function digitPngChunks(file: string, bytes: Buffer): Buffer {
  const kept: Buffer[] = [PNG_SIGNATURE];
  let pos = PNG_SIGNATURE.length;
  let header = false;
  for (;;) {
    const end = pos + 12 + (pos + 8 <= bytes.length ? bytes.readUInt32BE(pos) : 0);
    if (pos + 8 > bytes.length || end > bytes.length) {
      if (bytes.length > MAX_DIGIT_PNG_BYTES) {
        throw new UsageError(
          `${file}: not read past its first ${MAX_DIGIT_PNG_BYTES} bytes, where its image had not ended ` +
            `(a ${IMAGE_WIDTH}x${IMAGE_HEIGHT} grayscale PNG takes about 1 KB)`,
        );
      }
      throw new UsageError(`${file}: not a PNG image (it ends inside a chunk, before IEND)`);
    }
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    if (type === 'IHDR') {
      if (header) throw new UsageError(`${file}: not a PNG image (a second IHDR chunk)`);
      header = true;
      const problems = problemsOf(bytes.readUInt32BE(pos + 8), bytes.readUInt32BE(pos + 12), bytes[pos + 17]);
      if (problems.length > 0) throw expectedDigit(file, problems);
    }
    if (CRITICAL.has(type)) kept.push(bytes.subarray(pos, end));
    pos = end;
    if (type === 'IEND') return Buffer.concat(kept);
  }
}

/**
 * Row-major [42 * 28] pixels scaled to [0, 1]; a UsageError naming the file for anything else. At most
 * MAX_DIGIT_PNG_BYTES of the file are read, and only a single 42x28 IHDR is ever decoded.
 */
export function readDigitPng(file: string): Float32Array {
  checkDigitPngHeader(file);
  const bytes = digitPngChunks(file, readBounded(file));
  let png: PNG & { colorType?: number; depth?: number };
  try {
    png = PNG.sync.read(bytes) as PNG & { colorType?: number; depth?: number };
  } catch (err) {
    throw new UsageError(`${file}: not a PNG image (${(err as Error).message})`, { cause: err });
  }
  const problems = problemsOf(png.width, png.height, png.colorType);
  if (problems.length > 0) throw expectedDigit(file, problems);
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
