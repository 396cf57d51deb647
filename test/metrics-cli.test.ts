/**
 * /metrics of real hpo processes, read over HTTP while they run: `hpo search` on the local pool, and
 * `hpo worker` + `hpo search --nats` against a real nats-server. Each scrape also passes
 * `promtool check metrics` (Prometheus's own linter) when promtool is installed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { runHpo, startHpo, captureOutput as capture } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { one, parsePrometheusText, type Sample, select } from './helpers/prom-text.js';
import { workerArgs } from './helpers/spawn-worker.js';

const SYNTHETIC = fileURLToPath(new URL('../../search-spaces/synthetic.yaml', import.meta.url));
const PROMTOOL = ['/usr/bin/promtool', 'promtool'].find((p) => spawnSync(p, ['--version']).status === 0);

/** The URL the process prints (`hpo: metrics: http://…/metrics`). */
async function metricsUrl(read: () => string, child: ChildProcess): Promise<string> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(20)) {
    const m = /metrics: (http:\/\/\S+\/metrics)/.exec(read());
    if (m) return m[1];
    if (child.exitCode !== null) break;
  }
  throw new Error(`no metrics URL printed:\n${read()}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scrape(url: string): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  return { text, samples: parsePrometheusText(text) };
}

function promtoolCheck(text: string): void {
  if (!PROMTOOL) return;
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  // 0: clean; 3: lint problems only. prom-client's own nodejs_active_*_total gauges draw lint problems;
  // ours must draw none.
  assert.ok(r.status === 0 || r.status === 3, `promtool check metrics failed (${r.status}):\n${out}`);
  const ours = out.split('\n').filter((l) => l.startsWith('hpo_'));
  assert.deepEqual(ours, [], `promtool lint problems in hpo metrics:\n${out}`);
}

/** A refused or reset connection: the process closed its server (it is exiting). */
function connectionGone(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return (
    err instanceof TypeError && ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(cause?.code ?? '')
  );
}

/**
 * Scrapes every 100 ms until the process exits; returns every scrape that answered. A scrape that
 * answers wrongly fails at once; a lost connection is allowed only at the end (the server closes just
 * before the process exits): a scrape that answers after one fails too.
 */
function scrapeWhileRunning(
  url: string,
  child: ChildProcess,
): Promise<{ text: string; samples: Sample[] }[]> {
  return new Promise((resolve, reject) => {
    const scrapes: { text: string; samples: Sample[] }[] = [];
    let exited = child.exitCode !== null;
    child.once('exit', () => (exited = true));
    void (async () => {
      let lost: unknown;
      while (!exited) {
        try {
          scrapes.push(await scrape(url));
          if (lost !== undefined)
            throw new Error(`a scrape failed while the server still ran: ${String(lost)}`);
        } catch (err) {
          if (!connectionGone(err)) return reject(err);
          lost ??= err;
        }
        await sleep(100);
      }
      resolve(scrapes);
    })();
  });
}

describe('/metrics of hpo processes (real processes, HTTP scrapes)', function () {
  this.timeout(240_000);
  let dir: string;
  const children: ChildProcess[] = [];
  const start = (args: string[]) => {
    const c = startHpo(args);
    children.push(c);
    return c;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-metrics-cli-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hpo search --metrics-port 0: live orchestrator and worker metrics while the search runs', async () => {
    const db = join(dir, 's.db');
    const search = start([
      'search',
      SYNTHETIC,
      '--name',
      'm1',
      '--db',
      db,
      '--workers',
      '2',
      // Named, so the test does not depend on which backends this installation has.
      '--backend',
      'cpu',
      '--metrics-port',
      '0',
      '--metrics-top',
      '5',
      '--metrics-linger',
      '2',
    ]);
    const log = capture(search);
    const url = await metricsUrl(log, search);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const exit = new Promise<number | null>((r) => search.once('exit', r));
    const scrapes = await scrapeWhileRunning(url, search);
    assert.equal(await exit, 0, log());
    assert.ok(scrapes.length >= 3, `${scrapes.length} scrapes`);

    const exp = { experiment: 'm1' };
    // While trials ran: running trials, busy slots and live per-trial series.
    const live = scrapes.filter((s) => select(s.samples, 'hpo_trials_running', exp).some((x) => x.value > 0));
    assert.ok(live.length > 0, 'some scrape saw running trials');
    assert.ok(
      live.some((s) => one(s.samples, 'hpo_worker_busy_slots') > 0),
      'some scrape saw busy worker slots',
    );
    assert.ok(
      live.some((s) => select(s.samples, 'hpo_trial_info', { ...exp, state: 'running' }).length > 0),
      'running trials have info series',
    );
    assert.ok(live.some((s) => select(s.samples, 'hpo_trial_epoch', exp).length > 0));

    // The last scrape (during --metrics-linger): every trial done, bounded series, histograms counted.
    const last = scrapes[scrapes.length - 1];
    promtoolCheck(last.text);
    const s = last.samples;
    assert.equal(one(s, 'hpo_trials', { ...exp, state: 'completed' }), 20);
    assert.equal(one(s, 'hpo_trials_ended_total', { ...exp, state: 'completed' }), 20);
    assert.equal(one(s, 'hpo_trials_running', exp), 0);
    const best = one(s, 'hpo_best_value', { ...exp, metric: 'val_acc' });
    const board = await runHpo(['leaderboard', 'm1', '--db', db, '--format', 'json', '--top', '5']);
    const rows = JSON.parse(board.stdout) as { trial_id: string; value: number }[];
    assert.equal(best, rows[0].value);
    const kept = select(s, 'hpo_trial_value', exp)
      .map((x) => x.labels.trial_id)
      .sort();
    assert.deepEqual(kept, rows.map((r) => r.trial_id).sort(), 'per-trial series: the top 5');
    for (const r of rows) {
      assert.equal(one(s, 'hpo_trial_metric', { ...exp, trial_id: r.trial_id, metric: 'val_acc' }), r.value);
      assert.equal(one(s, 'hpo_trial_epoch', { ...exp, trial_id: r.trial_id }), 5);
    }
    assert.equal(
      one(s, 'hpo_trial_duration_seconds_count', { arch: 'synthetic', backend: 'none', state: 'completed' }),
      20,
    );
    assert.equal(one(s, 'hpo_dispatch_latency_seconds_count', { transport: 'in-process' }), 20);
    assert.equal(
      one(s, 'hpo_worker_epoch_duration_seconds_count', { arch: 'synthetic', backend: 'none' }),
      100,
    );
    assert.equal(one(s, 'hpo_worker_slots'), 2);
    assert.equal(one(s, 'hpo_worker_trials_total', { state: 'completed' }), 20);
    assert.equal(one(s, 'hpo_invalid_messages_total', { component: 'orchestrator' }), 0);
    assert.equal(one(s, 'hpo_invalid_messages_total', { component: 'worker' }), 0);
    assert.ok(select(s, 'nodejs_heap_size_used_bytes').length > 0, 'default process metrics');
    assert.match(log(), /serving http:\/\/127\.0\.0\.1:\d+\/metrics for 2 s more/);
  });

  it('a --metrics-port in use is a clear error, before any trial runs', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runHpo([
        'search',
        SYNTHETIC,
        '--name',
        'busy',
        '--db',
        join(dir, 'b.db'),
        '--metrics-port',
        String(port),
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: address already in use`),
      );
      const w = await runHpo(['worker', '--nats', 'nats://127.0.0.1:1', '--metrics-port', String(port)]);
      assert.equal(w.code, 1, w.stderr);
      assert.match(w.stderr, /cannot serve metrics on .*address already in use/);
    } finally {
      blocker.close();
    }
    const bad = await runHpo(['search', SYNTHETIC, '--metrics-port', '70000']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--metrics-port/);
  });

  describe('over NATS (real nats-server)', () => {
    let server: NatsServerHandle;
    before(async () => {
      server = await startNatsServer();
    });
    after(async () => {
      await server.stop();
    });

    it('hpo worker --metrics-port 0: slots, busy slots, epochs, invalid messages; the orchestrator: dispatch over nats', async () => {
      const worker = start(workerArgs(server.url, 'mw', { extra: ['--metrics-port', '0'] }));
      const wlog = capture(worker);
      const wurl = await metricsUrl(wlog, worker);
      let s = (await scrape(wurl)).samples;
      assert.equal(one(s, 'hpo_worker_slots', { worker: 'mw' }), 2);
      assert.equal(one(s, 'hpo_worker_busy_slots', { worker: 'mw' }), 0);
      assert.equal(one(s, 'hpo_worker_redeliveries_total', { worker: 'mw' }), 0);
      assert.equal(select(s, 'hpo_trials').length, 0, 'a worker exports no orchestrator metrics');

      const space = join(dir, 'nats.yaml');
      await writeFile(
        space,
        'method: grid\ntask: synthetic\nmetric: {name: val_acc, goal: maximize}\nparameters:\n  a: {values: [1, 2, 3, 4, 5, 6]}\n  epochs: {value: 3}\n  sleep_ms: {value: 200}\n',
      );
      const search = start([
        'search',
        space,
        '--name',
        'n1',
        '--db',
        join(dir, 'n.db'),
        '--nats',
        server.url,
        '--metrics-port',
        '0',
        '--metrics-linger',
        '1',
      ]);
      const slog = capture(search);
      const surl = await metricsUrl(slog, search);
      const exit = new Promise<number | null>((r) => search.once('exit', r));
      const [workerScrapes, searchScrapes] = await Promise.all([
        scrapeWhileRunning(wurl, search),
        scrapeWhileRunning(surl, search),
      ]);
      assert.equal(await exit, 0, slog());
      assert.ok(
        workerScrapes.some((x) => one(x.samples, 'hpo_worker_busy_slots', { worker: 'mw' }) > 0),
        'busy slots seen while the search ran',
      );
      assert.ok(searchScrapes.some((x) => one(x.samples, 'hpo_trials_running', { experiment: 'n1' }) > 0));

      // Invalid bus messages reach the worker's counter.
      const nc = await connect({ servers: server.url });
      nc.publish('hpo.cancel.n1', new TextEncoder().encode('{not json'));
      nc.publish('hpo.cancel.n1', new TextEncoder().encode(JSON.stringify({ v: 1 })));
      await nc.flush();
      await nc.close();
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(50)) {
        s = (await scrape(wurl)).samples;
        if (one(s, 'hpo_invalid_messages_total', { component: 'worker' }) >= 2) break;
      }
      const scraped = await scrape(wurl);
      promtoolCheck(scraped.text);
      s = scraped.samples;
      assert.equal(one(s, 'hpo_invalid_messages_total', { component: 'worker' }), 2);
      assert.equal(one(s, 'hpo_worker_trials_total', { worker: 'mw', state: 'completed' }), 6);
      assert.equal(
        one(s, 'hpo_worker_epoch_duration_seconds_count', {
          worker: 'mw',
          arch: 'synthetic',
          backend: 'none',
        }),
        18,
      );
      assert.ok(
        one(s, 'hpo_worker_epoch_duration_seconds_sum', {
          worker: 'mw',
          arch: 'synthetic',
          backend: 'none',
        }) >=
          18 * 0.2,
      );
      assert.equal(one(s, 'hpo_worker_busy_slots', { worker: 'mw' }), 0);
      assert.equal(one(s, 'hpo_worker_errors_total', { worker: 'mw', kind: 'bus' }), 0);

      const o = searchScrapes[searchScrapes.length - 1].samples;
      promtoolCheck(searchScrapes[searchScrapes.length - 1].text);
      assert.equal(one(o, 'hpo_dispatch_latency_seconds_count', { transport: 'nats' }), 6);
      assert.equal(one(o, 'hpo_trials_ended_total', { experiment: 'n1', state: 'completed' }), 6);
      assert.equal(one(o, 'hpo_invalid_messages_total', { component: 'orchestrator' }), 0);
      assert.equal(select(o, 'hpo_worker_slots').length, 0, 'with --nats the orchestrator runs no pool');

      worker.kill('SIGTERM');
      assert.equal(await new Promise((r) => worker.once('exit', r)), 0, wlog());
    });
  });
});
