/**
 * `npm run dashboards`: writes each dashboard of allDashboards() to dashboards/<name>.json, formatted as
 * the repository's prettier config formats JSON (so `npm run lint` accepts the generated files). The test
 * test/dashboards.test.ts fails when the committed files differ from what this produces.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { allDashboards } from './index.js';

/** dashboards/ of this checkout (this file runs from dist/dashboards/src/). */
export const DASHBOARDS_DIR = fileURLToPath(new URL('../../../dashboards/', import.meta.url));

/** File name -> file text, as `npm run dashboards` writes them. */
export async function renderDashboards(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [file, dash] of Object.entries(allDashboards())) {
    const path = DASHBOARDS_DIR + file;
    const config = (await prettier.resolveConfig(path)) ?? {};
    out[file] = await prettier.format(JSON.stringify(dash), { ...config, filepath: path });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, text] of Object.entries(await renderDashboards())) {
    writeFileSync(DASHBOARDS_DIR + file, text);
    process.stdout.write(`wrote dashboards/${file}\n`);
  }
}
