/**
 * The `.hpod` on-disk format of a two-digit data set (all integers little-endian uint32):
 *
 *   offset  size  field
 *        0     8  magic: ASCII "HPO2DIG" followed by a NUL byte
 *        8     4  format version (1)
 *       12     4  image height (42)
 *       16     4  image width (28)
 *       20     4  train count
 *       24     4  validation count
 *       28     4  test count
 *       32     4  flags: bit 0 set = the seed field is meaningful; other bits must be 0
 *       36     4  generator seed (0 when flag bit 0 is clear)
 *       40    32  SHA-256 of bytes 12..31 followed by every byte from offset 72 to the end
 *       72     -  payload: for train, then val, then test: count*height*width image bytes (row-major,
 *                 image after image), then count top labels, then count bottom labels (one byte each, 0-9)
 *
 * The hash covers the content only (dims, counts, pixels, labels) — not the magic, version, seed or path —
 * so identical data has an identical hash wherever and however it was written. See docs/DATA.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { DataError, UsageError } from '../../shared/errors.js';
import { isSeed } from '../../shared/prng.js';
import { IMAGE_HEIGHT, IMAGE_WIDTH, NUM_CLASSES, SPLIT_NAMES } from './constants.js';
import type { Split, TwoDigitDataset } from './types.js';

export const FORMAT_MAGIC = Buffer.from('HPO2DIG\0', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 72;
/** Byte range of the header that the content hash covers (height, width and the three counts). */
const HASHED_HEADER_START = 12;
const HASHED_HEADER_END = 32;
const SHA_OFFSET = 40;
const FLAG_HAS_SEED = 1;

/** The 20 hashed header bytes: height, width, train/val/test counts. */
function dimsBlock(height: number, width: number, counts: number[]): Buffer {
  const block = Buffer.alloc(HASHED_HEADER_END - HASHED_HEADER_START);
  [height, width, ...counts].forEach((v, i) => block.writeUInt32LE(v, i * 4));
  return block;
}

/** Hex SHA-256 of a data set's content, exactly as stored in (and checked against) the file header. */
export function contentSha256(
  ds: Pick<TwoDigitDataset, 'height' | 'width' | 'train' | 'val' | 'test'>,
): string {
  const hash = createHash('sha256');
  hash.update(
    dimsBlock(
      ds.height,
      ds.width,
      SPLIT_NAMES.map((s) => ds[s].count),
    ),
  );
  for (const name of SPLIT_NAMES) {
    const split = ds[name];
    hash.update(split.images);
    hash.update(split.top);
    hash.update(split.bottom);
  }
  return hash.digest('hex');
}

/** Checks that a data set is consistent and writable; a bad one is a UsageError (a caller's mistake). */
function checkWritable(ds: TwoDigitDataset): void {
  if (ds.height !== IMAGE_HEIGHT || ds.width !== IMAGE_WIDTH) {
    throw new UsageError(
      `data set images must be ${IMAGE_HEIGHT}x${IMAGE_WIDTH}, got ${ds.height}x${ds.width}`,
    );
  }
  if (ds.seed !== null && !isSeed(ds.seed)) {
    throw new UsageError(`data set seed must be null or an integer in [0, 2^32), got ${ds.seed}`);
  }
  for (const name of SPLIT_NAMES) {
    const s = ds[name];
    if (!s || !Number.isInteger(s.count) || s.count < 1 || s.count > 0xffffffff) {
      throw new UsageError(`split ${name} must have a positive integer count, got ${s?.count}`);
    }
    const imageBytes = s.count * ds.height * ds.width;
    if (s.images.length !== imageBytes || s.top.length !== s.count || s.bottom.length !== s.count) {
      throw new UsageError(
        `split ${name}: expected ${imageBytes} image bytes and ${s.count} top and bottom labels, got ` +
          `${s.images.length}, ${s.top.length} and ${s.bottom.length}`,
      );
    }
    for (const labels of [s.top, s.bottom]) {
      const bad = labels.findIndex((l) => l >= NUM_CLASSES);
      if (bad >= 0) throw new UsageError(`split ${name}: label ${labels[bad]} at index ${bad} is not 0-9`);
    }
  }
}

/**
 * Writes `ds` to `path` in the .hpod format and returns the content SHA-256. The write is atomic: the data
 * goes to a temporary file in the same folder (fsynced) that is then renamed over `path`, so readers never
 * see a half-written file. Creates the parent folder if needed.
 */
export async function writeDatasetFile(path: string, ds: TwoDigitDataset): Promise<string> {
  checkWritable(ds);
  const target = resolve(path);
  const sha256 = contentSha256(ds);
  const header = Buffer.alloc(HEADER_BYTES);
  FORMAT_MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT_VERSION, 8);
  dimsBlock(
    ds.height,
    ds.width,
    SPLIT_NAMES.map((s) => ds[s].count),
  ).copy(header, HASHED_HEADER_START);
  header.writeUInt32LE(ds.seed === null ? 0 : FLAG_HAS_SEED, 32);
  header.writeUInt32LE(ds.seed ?? 0, 36);
  Buffer.from(sha256, 'hex').copy(header, SHA_OFFSET);

  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.write(header);
      for (const name of SPLIT_NAMES) {
        const s = ds[name];
        await fh.write(s.images);
        await fh.write(s.top);
        await fh.write(s.bottom);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return sha256;
}

/**
 * Reads and fully verifies an .hpod file: size, magic, version, shape, exact length and SHA-256, then the
 * label range. Every problem is a DataError naming the file. The splits are views into one buffer.
 */
export async function readDatasetFile(path: string): Promise<TwoDigitDataset> {
  const file = resolve(path);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what =
      code === 'ENOENT'
        ? 'data set file not found'
        : code === 'EISDIR'
          ? 'data set path is a folder, not a file'
          : `cannot read data set file (${code ?? err})`;
    throw new DataError(`${what}: ${file}`, file, { cause: err });
  }
  const fail = (problem: string): never => {
    throw new DataError(`invalid data set file ${file}: ${problem}`, file);
  };

  if (buf.length < HEADER_BYTES) {
    fail(`truncated: ${buf.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  }
  if (!buf.subarray(0, FORMAT_MAGIC.length).equals(FORMAT_MAGIC)) {
    fail(`wrong magic (not an hpo .hpod data set file; expected "HPO2DIG\\0" at offset 0)`);
  }
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION)
    fail(`unsupported format version ${version} (this hpo reads ${FORMAT_VERSION})`);
  const height = buf.readUInt32LE(12);
  const width = buf.readUInt32LE(16);
  if (height !== IMAGE_HEIGHT || width !== IMAGE_WIDTH) {
    fail(`wrong shape: images are ${height}x${width}, expected ${IMAGE_HEIGHT}x${IMAGE_WIDTH}`);
  }
  const counts = SPLIT_NAMES.map((_, i) => buf.readUInt32LE(20 + i * 4));
  SPLIT_NAMES.forEach((name, i) => {
    if (counts[i] < 1) fail(`split ${name} is empty`);
  });
  const flags = buf.readUInt32LE(32);
  if ((flags & ~FLAG_HAS_SEED) !== 0) fail(`unknown flags 0x${flags.toString(16)}`);
  const seed = flags & FLAG_HAS_SEED ? buf.readUInt32LE(36) : null;

  const expected = HEADER_BYTES + counts.reduce((sum, c) => sum + c * (height * width + 2), 0);
  if (buf.length < expected) fail(`truncated: ${buf.length} bytes, the header promises ${expected}`);
  if (buf.length > expected) fail(`${buf.length - expected} unexpected trailing bytes after ${expected}`);

  const stored = buf.subarray(SHA_OFFSET, SHA_OFFSET + 32).toString('hex');
  const sha256 = createHash('sha256')
    .update(buf.subarray(HASHED_HEADER_START, HASHED_HEADER_END))
    .update(buf.subarray(HEADER_BYTES))
    .digest('hex');
  if (sha256 !== stored) fail(`corrupt: content SHA-256 is ${sha256}, the header records ${stored}`);

  let offset = HEADER_BYTES;
  const view = (length: number): Uint8Array => {
    const v = new Uint8Array(buf.buffer, buf.byteOffset + offset, length);
    offset += length;
    return v;
  };
  const splits = SPLIT_NAMES.map((name, i): Split => {
    const count = counts[i];
    const split = { count, images: view(count * height * width), top: view(count), bottom: view(count) };
    for (const labels of [split.top, split.bottom]) {
      const bad = labels.findIndex((l) => l >= NUM_CLASSES);
      if (bad >= 0) fail(`split ${name} has label ${labels[bad]} at index ${bad} (expected 0-9)`);
    }
    return split;
  });
  return { height, width, train: splits[0], val: splits[1], test: splits[2], sha256, seed, file };
}
