/**
 * The page's files: plain HTML, JS and CSS in viewer/public/ (shipped as they are, no build step) and
 * ECharts' prebuilt bundle from node_modules. Nothing is fetched from the internet.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HpoError } from '../shared/errors.js';

export interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The public/ folder: beside this file in the source tree, or found from dist/ (tsc does not copy it). */
export function publicDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'public'), join(here, '..', '..', 'viewer', 'public')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found)
    throw new HpoError(`the dashboard's page files are missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** ECharts' minified browser bundle (node_modules/echarts/dist/echarts.min.js). */
export function echartsFile(): string {
  const main = createRequire(import.meta.url).resolve('echarts'); // .../echarts/dist/echarts.js
  return join(dirname(main), 'echarts.min.js');
}

/** Every file the page needs, read once: URL path -> content. */
export function loadAssets(): Map<string, Asset> {
  const dir = publicDir();
  const out = new Map<string, Asset>();
  const add = (path: string, file: string) => {
    const ext = file.slice(file.lastIndexOf('.'));
    out.set(path, { type: TYPES[ext] ?? 'application/octet-stream', body: readFileSync(file) });
  };
  for (const name of readdirSync(dir))
    if (TYPES[name.slice(name.lastIndexOf('.'))]) add(`/${name}`, join(dir, name));
  add('/', join(dir, 'index.html'));
  add('/echarts.min.js', echartsFile());
  return out;
}
