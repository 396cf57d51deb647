/**
 * A PNG contact sheet of a split: a grid of the first `count` images, each with its labels drawn under it
 * as "top/bottom" in a built-in 3x5 pixel font, encoded with pngjs.
 */
import { PNG } from 'pngjs';

import { UsageError } from '../../shared/errors.js';
import { IMAGE_HEIGHT, IMAGE_WIDTH } from './constants.js';
import type { Split } from './types.js';

export interface PreviewOptions {
  /** How many images, from the start of the split (1..split.count). */
  count: number;
  /** Images per row (default: min(count, 10)). */
  columns?: number;
  /** Integer magnification, 1-8 (default 2). */
  scale?: number;
}

/** 3x5 glyphs, one string of 15 cells per character, row by row ('#' = ink). */
const FONT: Record<string, string> = {
  '0': '###' + '#.#' + '#.#' + '#.#' + '###',
  '1': '.#.' + '##.' + '.#.' + '.#.' + '###',
  '2': '###' + '..#' + '###' + '#..' + '###',
  '3': '###' + '..#' + '###' + '..#' + '###',
  '4': '#.#' + '#.#' + '###' + '..#' + '..#',
  '5': '###' + '#..' + '###' + '..#' + '###',
  '6': '###' + '#..' + '###' + '#.#' + '###',
  '7': '###' + '..#' + '..#' + '..#' + '..#',
  '8': '###' + '#.#' + '###' + '#.#' + '###',
  '9': '###' + '#.#' + '###' + '..#' + '###',
  '/': '..#' + '..#' + '.#.' + '#..' + '#..',
};
const GLYPH_W = 3;
const GLYPH_H = 5;
const GAP = 2; // pixels between cells and around the sheet
const LABEL_BAND = GLYPH_H + 2; // 1 pixel above and below the text
const CELL_H = IMAGE_HEIGHT + LABEL_BAND;
const MAX_PIXELS = 64_000_000;

const BACKGROUND = [40, 44, 52];
const INK = [255, 200, 60];

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`preview ${name} must be an integer between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** Renders the first `options.count` images of `split` as a PNG grid; returns the PNG file bytes. */
export function renderPreviewPng(split: Split, options: PreviewOptions): Buffer {
  const count = checkInt('count', options.count, 1, split.count);
  const columns = Math.min(checkInt('columns', options.columns ?? Math.min(count, 10), 1, 10_000), count);
  const scale = checkInt('scale', options.scale ?? 2, 1, 8);
  const rows = Math.ceil(count / columns);
  const w = columns * IMAGE_WIDTH + (columns + 1) * GAP;
  const h = rows * CELL_H + (rows + 1) * GAP;
  if (w * h * scale * scale > MAX_PIXELS) {
    throw new UsageError(
      `preview of ${count} images at scale ${scale} is too large; ask for fewer or a smaller scale`,
    );
  }

  // Unscaled RGB canvas, then magnified into the PNG's RGBA buffer.
  const rgb = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) rgb.set(BACKGROUND, p * 3);
  const put = (x: number, y: number, color: ArrayLike<number>): void => {
    rgb[(y * w + x) * 3] = color[0];
    rgb[(y * w + x) * 3 + 1] = color[1];
    rgb[(y * w + x) * 3 + 2] = color[2];
  };

  for (let i = 0; i < count; i++) {
    const x0 = GAP + (i % columns) * (IMAGE_WIDTH + GAP);
    const y0 = GAP + Math.floor(i / columns) * (CELL_H + GAP);
    const base = i * IMAGE_HEIGHT * IMAGE_WIDTH;
    for (let y = 0; y < IMAGE_HEIGHT; y++) {
      for (let x = 0; x < IMAGE_WIDTH; x++) {
        const v = split.images[base + y * IMAGE_WIDTH + x];
        put(x0 + x, y0 + y, [v, v, v]);
      }
    }
    const text = `${split.top[i]}/${split.bottom[i]}`;
    const textW = text.length * GLYPH_W + (text.length - 1);
    let tx = x0 + Math.floor((IMAGE_WIDTH - textW) / 2);
    const ty = y0 + IMAGE_HEIGHT + 1;
    for (const ch of text) {
      const glyph = FONT[ch];
      for (let gy = 0; gy < GLYPH_H; gy++) {
        for (let gx = 0; gx < GLYPH_W; gx++) {
          if (glyph[gy * GLYPH_W + gx] === '#') put(tx + gx, ty + gy, INK);
        }
      }
      tx += GLYPH_W + 1;
    }
  }

  const png = new PNG({ width: w * scale, height: h * scale, colorType: 6 });
  const W = w * scale;
  for (let y = 0; y < h * scale; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < W; x++) {
      const s = (sy * w + Math.floor(x / scale)) * 3;
      const d = (y * W + x) * 4;
      png.data[d] = rgb[s];
      png.data[d + 1] = rgb[s + 1];
      png.data[d + 2] = rgb[s + 2];
      png.data[d + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
