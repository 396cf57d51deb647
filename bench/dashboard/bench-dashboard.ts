/**
 * `npm run bench:dashboard -- [--out FILE.json] [--trials N] [--epochs N]`: the dashboard against a big
 * database (default 10,000 trials and 100,000 epoch rows): how long the JSON API answers take, how long
 * headless Chromium takes to the first complete render of the page, and how long an epoch recorded by
 * another connection takes to show on the open page (server-sent event, then the page's refetch).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { startDashboard } from '../../viewer/index.js';
import { SqliteStore } from '../../orchestrator/store/index.js';
import { launchChromium } from '../../test/helpers/browser.js';
import { distribution, round } from '../stats.js';
import { BENCH_EXPERIMENT, writeBigDb } from './big-db.js';
import { availableParallelism, cpus } from 'node:os';

interface Flags {
  out: string;
  trials: number;
  epochs: number;
  renders: number;
  updates: number;
}

async function timeFetch(url: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return { ms: round(performance.now() - t0, 1), bytes: body.byteLength };
}

async function main(): Promise<void> {
  const flags = new Command('bench-dashboard')
    .option('--out <file>', 'JSON report', 'bench-dashboard.json')
    .option('--trials <n>', 'trials in the database', (v) => Number(v), 10_000)
    .option('--epochs <n>', 'epoch rows per trial', (v) => Number(v), 10)
    .option('--renders <n>', 'page loads timed', (v) => Number(v), 3)
    .option('--updates <n>', 'recorded epochs timed to the page', (v) => Number(v), 5)
    .parse()
    .opts<Flags>();
  const dir = mkdtempSync(join(tmpdir(), 'hpo-bench-dash-'));
  const file = join(dir, 'big.db');
  const t0 = performance.now();
  await writeBigDb(file, flags.trials, flags.epochs);
  const writeMs = performance.now() - t0;
  const dash = await startDashboard({ db: file, port: 0 });
  const browser = await launchChromium();
  const store = SqliteStore.open(file);
  try {
    const base = `${dash.url}api/experiments/${BENCH_EXPERIMENT}`;
    const api: Record<string, { ms: number; bytes: number }> = {};
    for (const [name, url] of Object.entries({
      experiments: `${dash.url}api/experiments`,
      summary: base,
      trials_by_value: `${base}/trials?limit=50`,
      trials_by_param: `${base}/trials?sort=param:rate&order=asc&limit=50&offset=5000`,
      history: `${base}/history`,
      parallel: `${base}/parallel`,
      importance_cold: `${base}/importance`,
      importance_cached: `${base}/importance`,
      curves_5: `${base}/curves?trials=t00000,t00001,t00002,t00003,t00004`,
      trial_detail: `${base}/trials/t00042`,
    })) {
      api[name] = await timeFetch(url);
    }

    const renders: number[] = [];
    for (let i = 0; i < flags.renders; i++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const start = performance.now();
      await page.goto(dash.url);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
      renders.push(round(performance.now() - start, 1));
      await page.close();
    }

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(dash.url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
    const running = (await store.listTrials(BENCH_EXPERIMENT)).filter((t) => t.state === 'running');
    const updates: number[] = [];
    let count = Number(await page.locator('#epoch-rows .n').innerText());
    for (let i = 0; i < flags.updates; i++) {
      const t = running[i % running.length];
      const epoch = (await store.getTrial(BENCH_EXPERIMENT, t.trial_id))!.epochs + 1;
      const start = performance.now();
      await store.recordEpoch(BENCH_EXPERIMENT, t.trial_id, epoch, { val_acc: 0.5, val_loss: 0.5 });
      count++;
      await page
        .locator('#epoch-rows .n', { hasText: new RegExp(`^${count}$`) })
        .waitFor({ timeout: 60_000 });
      updates.push(round(performance.now() - start, 1));
      await page.waitForTimeout(300); // let the refresh settle before the next one
    }
    await page.close();

    const report = {
      bench: 'dashboard',
      at: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model.trim() ?? 'unknown',
        cores: availableParallelism(),
        node: process.version,
      },
      db: { trials: flags.trials, epoch_rows: flags.trials * flags.epochs, write_ms: round(writeMs, 0) },
      api_ms: api,
      first_render_ms: distribution(renders),
      first_render_runs: renders,
      update_latency_ms: distribution(updates),
      update_runs: updates,
      notes:
        'first render: page.goto to every panel drawn (body[data-ready]); update: an epoch recorded by ' +
        'another connection until the page shows the new epoch count (200 ms change poll + SSE + refetch).',
    };
    const text = `${JSON.stringify(report, null, 2)}\n`;
    process.stdout.write(text);
    writeFileSync(flags.out, text);
    process.stderr.write(`bench-dashboard: wrote ${flags.out}\n`);
  } finally {
    await store.close();
    await browser.close();
    await dash.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
