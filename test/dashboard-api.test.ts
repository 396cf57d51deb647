import assert from 'node:assert/strict';
import { permutationImportance, startDashboard, type Dashboard } from '../viewer/index.js';
import type { SqliteStore } from '../orchestrator/store/index.js';
import { DASH_EXPERIMENT, dashboardDb } from './helpers/dashboard-db.js';
import { startNatsServer } from './helpers/nats-server.js';
import { listWorkers } from '../orchestrator/api/index.js';
import { connectNats } from '../shared/nats/connection.js';
import { busNames, type WorkerHeartbeat } from '../shared/protocol/bus.js';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';

/** Reads server-sent events from a fetch body until `until` returns true for one. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (event: string, data: unknown) => boolean,
): Promise<{ event: string; data: unknown }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('event stream ended');
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data !== undefined) {
        const parsed = JSON.parse(data) as unknown;
        if (until(event, parsed)) {
          reader.releaseLock();
          return { event, data: parsed };
        }
      }
    }
  }
}

describe('dashboard JSON API (real SQLite file, real HTTP)', () => {
  let store: SqliteStore;
  let dash: Dashboard;
  const get = async (path: string) => {
    const res = await fetch(new URL(path, dash.url));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    ({ store } = await dashboardDb(24));
    dash = await startDashboard({ db: store.file, port: 0, pollMs: 50 });
  });
  after(async () => {
    await dash.close();
    await store.close();
  });

  it('binds 127.0.0.1 and serves the page, its scripts and ECharts from this process', async () => {
    assert.match(dash.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(dash.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<title>hpo dashboard<\/title>/);
    for (const asset of ['/app.js', '/charts.js', '/tables.js', '/format.js', '/api.js', '/style.css']) {
      assert.equal((await fetch(new URL(asset, dash.url))).status, 200, asset);
    }
    const echarts = await fetch(new URL('/echarts.min.js', dash.url));
    assert.equal(echarts.status, 200);
    assert.ok((await echarts.text()).length > 500_000, 'the full ECharts bundle');
    assert.equal((await fetch(new URL('/nothing-here', dash.url))).status, 404);
  });

  it('lists experiments and summarizes one: trials by state, stopped-at rungs, errors, no MNIST table', async () => {
    const list = await get('/api/experiments');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.experiments.map((e: { name: string }) => e.name),
      [DASH_EXPERIMENT],
    );
    const s = (await get(`/api/experiments/${DASH_EXPERIMENT}`)).body;
    assert.deepEqual(s.trials, {
      pending: 1,
      queued: 0,
      running: 1,
      completed: 12,
      stopped: 12,
      failed: 1,
      total: 27,
    });
    assert.equal(s.hyperband, true);
    // Odd trials stopped after 2 epochs: rung 2 of (1, 2) with eta 2, max_iter 4.
    assert.deepEqual(s.stopped_at, [{ epochs: 2, rung: 2, trials: 12 }]);
    assert.deepEqual(s.errors, [{ error: 'boom: <script>alert(1)</script>', trials: 1, trial_id: 't0024' }]);
    assert.equal(s.seed_table, false);
    assert.deepEqual(
      s.params.map((p: { name: string }) => p.name),
      ['x', 'rate', 'mode'],
    );
    assert.deepEqual(s.constants, { epochs: 4 });
    assert.equal(s.epoch_rows, 12 * 4 + 12 * 2 + 1);
    assert.deepEqual(s.epoch_metrics.sort(), ['val_acc']);
    assert.equal((await get('/api/experiments/none')).status, 404);
    assert.equal((await get(`/api/experiments/${DASH_EXPERIMENT}/seed-table`)).status, 404);
  });

  it('pages and sorts trials on the server, by any field or parameter, at full precision', async () => {
    const first = (await get(`/api/experiments/${DASH_EXPERIMENT}/trials?limit=10`)).body;
    assert.equal(first.total, 27);
    assert.equal(first.rows.length, 10);
    // Default: the objective, best first for a maximized metric; trials without a value last.
    const values = first.rows.map((r: { value: number }) => r.value);
    assert.deepEqual(
      values,
      [...values].sort((a, b) => b - a),
    );
    const last = (await get(`/api/experiments/${DASH_EXPERIMENT}/trials?limit=10&offset=20`)).body;
    assert.equal(last.rows.length, 7);
    assert.equal(last.rows.at(-1).value, null);

    const byX = (await get(`/api/experiments/${DASH_EXPERIMENT}/trials?sort=param:x&order=asc&limit=500`))
      .body;
    const xs = byX.rows.map((r: { params: { x: number } }) => r.params.x);
    assert.deepEqual(
      xs,
      [...xs].sort((a, b) => a - b),
    );
    // Every parameter exactly as stored.
    const t5 = (await store.getTrial(DASH_EXPERIMENT, 't0005'))!;
    const row5 = byX.rows.find((r: { trial_id: string }) => r.trial_id === 't0005');
    assert.deepEqual(row5.params, t5.params);
    assert.equal(row5.rung, 2);

    const failed = (await get(`/api/experiments/${DASH_EXPERIMENT}/trials?state=failed`)).body;
    assert.deepEqual(
      failed.rows.map((r: { trial_id: string; error: string }) => [r.trial_id, r.error]),
      [['t0024', 'boom: <script>alert(1)</script>']],
    );
    for (const bad of [
      'sort=params',
      'sort=param:nope',
      'state=done',
      'limit=100000',
      'offset=-1',
      'order=up',
    ]) {
      const res = await get(`/api/experiments/${DASH_EXPERIMENT}/trials?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.match(res.body.error, /expected/);
    }
  });

  it('answers trial detail, learning curves, best so far and parallel coordinates', async () => {
    const d = (await get(`/api/experiments/${DASH_EXPERIMENT}/trials/t0002`)).body;
    assert.equal(d.trial.state, 'completed');
    assert.deepEqual(
      d.epochs.map((e: { epoch: number }) => e.epoch),
      [1, 2, 3, 4],
    );
    assert.equal(d.rung, 4);
    assert.equal((await get(`/api/experiments/${DASH_EXPERIMENT}/trials/zzz`)).status, 404);

    const c = (
      await get(`/api/experiments/${DASH_EXPERIMENT}/curves?trials=t0002,t0003,nope&metric=val_loss`)
    ).body;
    assert.equal(c.metric, 'val_loss');
    assert.deepEqual(
      c.trials.map((t: { trial_id: string; points: unknown[] }) => [t.trial_id, t.points.length]),
      [
        ['t0002', 4],
        ['t0003', 2],
      ],
    );

    const h = (await get(`/api/experiments/${DASH_EXPERIMENT}/history`)).body;
    assert.equal(h.total, 24);
    const bests = h.best.map((p: [number, number]) => p[1]);
    assert.deepEqual(
      bests,
      [...bests].sort((a, b) => a - b),
      'best so far never gets worse',
    );
    assert.equal(h.best.at(-1)[0], 24);
    const top = (await store.leaderboard(DASH_EXPERIMENT, { top: 1 }))[0];
    assert.equal(h.best.at(-1)[1], top.value);

    const p = (await get(`/api/experiments/${DASH_EXPERIMENT}/parallel`)).body;
    assert.equal(p.rows.length, 24);
    assert.equal(p.rows[0].trial_id, top.trial_id);
  });

  it('names its importance method and finds the one parameter that decides the value', async () => {
    const imp = (await get(`/api/experiments/${DASH_EXPERIMENT}/importance`)).body;
    assert.match(imp.method, /permutation importance.*random forest/);
    // 12 trials completed 4 epochs, 12 were stopped after 2: compared at equal budget (issue 25 item 3),
    // the 12 at epoch 4, not the stopped ones' half-trained values beside them.
    assert.equal(imp.used, 12);
    assert.match(
      imp.note,
      /compared at equal budget: val_acc at epoch 4 of the 12 trials that reached it \(finished trials ran 2 to 4 epochs\)/,
    );
    assert.equal(imp.params[0].name, 'x');
    assert.ok(imp.params[0].share > 0.6, JSON.stringify(imp.params));
    const sum = imp.params.reduce((a: number, q: { share: number }) => a + q.share, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
  });

  it('pushes a change event when an epoch is recorded', async () => {
    const controller = new AbortController();
    const res = await fetch(new URL('/api/events', dash.url), { signal: controller.signal });
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const body = res.body!;
    const hello = await readEvents(body, (e) => e === 'hello');
    const before = (hello.data as { epoch_row: number }).epoch_row;
    await store.recordEpoch(DASH_EXPERIMENT, 't0025', 2, { val_acc: 0.1 });
    const change = await readEvents(body, (e) => e === 'change');
    assert.ok((change.data as { epoch_row: number }).epoch_row > before);
    controller.abort();
    const running = (await get(`/api/experiments/${DASH_EXPERIMENT}/trials?state=running`)).body;
    assert.equal(running.rows[0].epochs, 2);
  });

  it('has no workers panel without a bus', async () => {
    assert.deepEqual((await get('/api/workers')).body, { available: false, workers: [], at: null });
  });
});

describe('permutation importance (random forest)', () => {
  it('ranks the feature the target depends on first, and gives noise about nothing', () => {
    const xs: number[][] = [];
    const ys: number[] = [];
    for (let i = 0; i < 200; i++) {
      const a = Math.sin(i * 12.9898) * 0.5 + 0.5;
      const b = Math.sin(i * 78.233) * 0.5 + 0.5;
      const noise = Math.sin(i * 37.719) * 0.5 + 0.5;
      xs.push([noise, a, b]);
      ys.push(3 * a + 0.5 * b);
    }
    const imp = permutationImportance(xs, ys, { seed: 7 });
    assert.ok(imp[1] > imp[2], `a over b: ${imp}`);
    assert.ok(imp[2] > imp[0], `b over noise: ${imp}`);
    assert.ok(imp[0] < 0.05 * imp[1], `noise near 0: ${imp}`);
  });
});

describe('dashboard workers panel (real nats-server)', () => {
  it('lists the workers that answer a ping on the bus', async () => {
    const nats = await startNatsServer();
    const nc = await connectNats({ servers: [nats.url], name: 'test dashboard' });
    const worker = await connectNats({ servers: [nats.url], name: 'test worker' });
    const names = busNames();
    // A worker as the bus sees it: answers each ping with its heartbeat.
    const heartbeat = (): WorkerHeartbeat => ({
      v: PROTOCOL_VERSION,
      name: 'gpu-box:1234',
      slots: 2,
      busy: 1,
      backend: 'wasm',
      trials_done: 7,
      started_at: Date.now() - 60_000,
      sent_at: Date.now(),
      draining: false,
      invalid_messages: 0,
    });
    worker.subscribe(names.pingSubject, {
      callback: () => worker.publish(names.heartbeatSubject, JSON.stringify(heartbeat())),
    });
    await worker.flush();
    const { store } = await dashboardDb(8);
    const dash = await startDashboard({
      db: store.file,
      port: 0,
      workers: () => listWorkers(nc, { timeoutMs: 300 }),
    });
    try {
      const res = await fetch(new URL('/api/workers', dash.url));
      const body = (await res.json()) as { available: boolean; workers: WorkerHeartbeat[] };
      assert.equal(body.available, true);
      assert.deepEqual(
        body.workers.map((w) => [w.name, w.slots, w.busy, w.trials_done]),
        [['gpu-box:1234', 2, 1, 7]],
      );
    } finally {
      await dash.close();
      await store.close();
      await worker.close();
      await nc.close();
      await nats.stop();
    }
  });
});
