import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/browser.js';
import { HPO_BIN, startHpo } from './helpers/cli.js';
import { TEST_DATA_DIR } from './helpers/dataset.js';
import { DASH_EXPERIMENT, dashboardDb } from './helpers/dashboard-db.js';

/** Resolves with the first URL the process prints after `marker` on stderr. */
function urlFrom(child: ChildProcess, marker: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = marker.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`hpo exited (${code}) before printing its URL:\n${err}`)));
  });
}

/** Opens the page, recording console errors and uncaught exceptions. */
async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]');
  return { page, errors };
}

// The page's document, inside page.waitForFunction callbacks (they run in the browser).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const text = (page: Page, selector: string) => page.locator(selector).first().innerText();

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

describe('dashboard in a real browser (headless Chromium)', () => {
  let browser: Browser;
  const shots = mkdtempSync(join(tmpdir(), 'hpo-dash-shots-'));

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('hpo dashboard: lists the trials of a database and redraws when an epoch is recorded', async () => {
    const { store } = await dashboardDb(24);
    const child = startHpo(['dashboard', '--db', store.file, '--port', '0']);
    try {
      const url = await urlFrom(child, /dashboard of .* at (http:\S+)/);
      assert.match(url, /^http:\/\/127\.0\.0\.1:/);
      const { page, errors } = await openPage(browser, url);
      await page.waitForSelector('#trials-table tbody tr');
      assert.equal(await text(page, '#experiment-title'), DASH_EXPERIMENT);
      assert.equal(await text(page, '#state-running .n'), '1');
      assert.equal(await text(page, '#state-failed .n'), '1');
      assert.equal((await text(page, '#page-info')).trim(), 'page 1 of 1 (27 trials)');
      assert.equal(await page.locator('#trials-table tbody tr').count(), 27);
      // Parameters at full precision, values not ours shown as text (the error holds a <script> tag).
      const x5 = String((await store.getTrial(DASH_EXPERIMENT, 't0005'))!.params.x);
      assert.ok((await text(page, '#trials-table')).includes(x5), `x of t0005 (${x5}) in the table`);
      assert.ok((await text(page, '#errors-table')).includes('boom: <script>alert(1)</script>'));
      assert.equal(await page.locator('#seed-box').isHidden(), true, 'no MNIST table for the synthetic task');
      assert.match(await text(page, '#importance-method'), /permutation importance/);

      const before = Number(await text(page, '#epoch-rows .n'));
      await store.recordEpoch(DASH_EXPERIMENT, 't0025', 2, { val_acc: 0.25 });
      await page.locator('#epoch-rows .n', { hasText: new RegExp(`^${before + 1}$`) }).waitFor();
      const runningRow = page.locator('#trials-table tr[data-trial="t0025"]');
      assert.match(await runningRow.innerText(), /running/);

      await page.locator('#trials-table tr[data-trial="t0002"]').click();
      await page.locator('#trial-detail td', { hasText: /^t0002$/ }).waitFor();
      const shot = join(shots, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 20_000, 'a screenshot with content');
      process.stdout.write(`      screenshot: ${shot}\n`);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await stop(child);
      await store.close();
    }
  });

  it('hpo search --ui-port: the page shows the running search live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hpo-dash-search-'));
    const sweep = join(dir, 'slow.yaml');
    writeFileSync(
      sweep,
      [
        'method: random',
        'metric: {name: val_acc, goal: maximize}',
        'task: synthetic',
        'seed: 3',
        'run_cap: 4',
        'parameters:',
        '  x: {distribution: uniform, min: -2, max: 2}',
        '  rate: {distribution: log_uniform_values, min: 0.001, max: 1}',
        '  sleep_ms: {value: 400}',
        '  epochs: {value: 8}',
        '',
      ].join('\n'),
    );
    const db = join(dir, 'search.db');
    const child = startHpo([
      'search',
      sweep,
      '--db',
      db,
      '--name',
      'live',
      '--workers',
      '1',
      '--ui-port',
      '0',
    ]);
    try {
      const url = await urlFrom(child, /dashboard at (http:\S+)/);
      assert.match(url, /#exp=live$/);
      const { page, errors } = await openPage(browser, url);
      assert.equal(await text(page, '#experiment-title'), 'live');
      await page.waitForSelector('#trials-table td.state-running');
      const seen = Number(await text(page, '#epoch-rows .n'));
      // The search records epochs; the page follows without a reload.
      await page.waitForFunction(
        (n) => Number(document.querySelector('#epoch-rows .n')?.textContent) > n,
        seen,
      );
      await page.screenshot({ path: join(shots, 'search-live.png'), fullPage: true });
      // The search may end (and its dashboard close with it: no terminal here) just before this line;
      // the page's reconnect attempts then show as refused connections, which are no page errors.
      assert.deepEqual(
        errors.filter((e) => !/net::ERR_CONNECTION_REFUSED/.test(e)),
        [],
      );
      await page.close();
    } finally {
      await stop(child);
    }
  });

  /** A sweep file of a few short trials and a database path beside it. */
  function quickSweep(): { sweep: string; db: string } {
    const dir = mkdtempSync(join(tmpdir(), 'hpo-dash-linger-'));
    const sweep = join(dir, 'quick.yaml');
    writeFileSync(
      sweep,
      [
        'method: random',
        'metric: {name: val_acc, goal: maximize}',
        'task: synthetic',
        'seed: 4',
        'run_cap: 3',
        'parameters:',
        '  x: {distribution: uniform, min: -2, max: 2}',
        '  sleep_ms: {value: 20}',
        '  epochs: {value: 2}',
        '',
      ].join('\n'),
    );
    return { sweep, db: join(dir, 'l.db') };
  }

  /** A search of a few short trials with --ui-port 0, its stderr collected. */
  function quickSearch(name: string, extra: string[]): { child: ChildProcess; err: () => string } {
    const { sweep, db } = quickSweep();
    const args = ['search', sweep, '--db', db, '--name', name, '--workers', '1'];
    const child = startHpo([...args, '--ui-port', '0', ...extra]);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    return { child, err: () => err };
  }

  it('--ui-linger forever: the page stays live after the search until Ctrl-C, which exits 0 (issue 25 item 5)', async () => {
    const { child, err } = quickSearch('linger', ['--ui-linger', 'forever']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await urlFrom(child, /search finished; dashboard still at (http:\S+) \(Ctrl-C to stop\)/);
      assert.match(url, /#exp=linger$/);
      const { page, errors } = await openPage(browser, url);
      assert.equal(await text(page, '#experiment-title'), 'linger');
      await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'live');
      const api = await fetch(new URL('/api/experiments/linger', url));
      assert.equal(api.status, 200);
      assert.equal(((await api.json()) as { status: string }).status, 'completed');
      assert.equal(child.exitCode, null, 'still serving after the search ended');
      assert.deepEqual(errors, [], 'no page error while the server was up');
      child.kill('SIGINT');
      assert.equal(await exited, 0, err());
      assert.match(err(), /dashboard closed; browse the results with: hpo dashboard --db /);
      // The page saw the server go: only now does it say so.
      await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'reconnecting…');
      // Once the server is gone the page keeps trying to reconnect (the event stream, a refresh that was
      // due): the browser logs each refused connection, and nothing else may appear.
      assert.deepEqual(
        errors.filter((e) => !/net::ERR_CONNECTION_REFUSED/.test(e)),
        [],
        'no page error after the server went but refused connections',
      );
      await page.close();
    } finally {
      await stop(child);
    }
  });

  it('--ui-port without a terminal (CI, scripts): the dashboard closes with the search, which exits by itself', async () => {
    const { child, err } = quickSearch('ci', []);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, err());
    assert.match(err(), /dashboard at http:/);
    assert.doesNotMatch(err(), /still at/);
    assert.match(err(), /dashboard closed/);
  });

  it('from a terminal, as npm start runs: the page stays after the search; Ctrl-C typed there exits 0', async function () {
    // script(1) (bsdutils) runs hpo on a real pseudo-terminal; a typed ^C reaches it as SIGINT. npm test's
    // pretest (test/setup/ensure-tools.sh) installs it, so a missing one fails here rather than skipping.
    assert.equal(
      spawnSync('script', ['--version']).status,
      0,
      'script(1) is missing: install bsdutils (Debian: apt-get install bsdutils)',
    );
    const { sweep, db } = quickSweep();
    // `exec`: script(1) runs the command through $SHELL -c. Without exec, a dash (/bin/sh) left waiting
    // dies of the typed SIGINT itself and script reports 130 whatever hpo does; bash does not. SHELL is
    // pinned so the test runs the same under either login shell.
    const command = [process.execPath, HPO_BIN, 'search', sweep, '--db', db, '--name', 'tty']
      .concat(['--workers', '1', '--ui-port', '0'])
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    const child = spawn('script', ['-qec', `exec ${command}`, '/dev/null'], {
      env: { ...process.env, HPO_DATA_DIR: TEST_DATA_DIR, SHELL: '/bin/sh' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const m = /search finished; dashboard still at (http:\S+) \(Ctrl-C to stop\)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited (${code}) before lingering:\n${out}`)));
      });
      const api = await fetch(new URL('/api/experiments/tty', url));
      assert.equal(((await api.json()) as { status: string }).status, 'completed');
      child.stdin.write('\x03'); // Ctrl-C, typed on the terminal
      assert.equal(await exited, 0, out);
      assert.match(out, /dashboard closed/);
      await assert.rejects(fetch(new URL('/api/experiments/tty', url)), 'the dashboard is closed');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
