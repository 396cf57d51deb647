/**
 * GET /healthz and /readyz on the metrics port (docs/METRICS.md "Health"): the server's answers for
 * given checks (not started, passing, failing, throwing, hanging), then a real `hpo search --nats` and a
 * real `hpo worker` on a real nats-server: ready once connected (orchestrator: nats, store, lease; worker:
 * nats, pool), 503 naming `nats` while the server is down, ready again after it is back.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import {
  type ReadinessReport,
  evaluateReadiness,
  failed,
  passed,
  startMetricsServer,
} from '../shared/metrics/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { holdLease } from '../cli/owner.js';
import { orchestratorReadiness } from '../cli/readiness-checks.js';
import { makeSpace } from './contracts/store.contract.js';
import { captureOutput, startHpo, waitForOutput } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { workerArgs } from './helpers/spawn-worker.js';

interface Answer {
  status: number;
  body: string;
}

async function get(url: string): Promise<Answer> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** Polls `url` until `accept` holds (each answer is kept for the failure message), for up to `ms`. */
async function waitForAnswer(url: string, accept: (a: Answer) => boolean, ms = 120_000): Promise<Answer> {
  const deadline = Date.now() + ms;
  let last: Answer | string = 'no answer yet';
  for (;;) {
    try {
      last = await get(url);
      if (accept(last)) return last;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline)
      throw new Error(`${url}: still not as expected after ${ms} ms: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const report = (a: Answer) => JSON.parse(a.body) as ReadinessReport;

describe('health: /healthz and /readyz on the metrics port', function () {
  this.timeout(300_000); // a hang guard: processes on a loaded 2-core machine

  describe('the server, with given checks', () => {
    it('not ready until checks are handed over; then 200 when all pass, 503 naming the failing ones', async () => {
      const server = await startMetricsServer({ registry: new Registry(), port: 0 });
      const base = server.url.replace(/\/metrics$/, '');
      try {
        const alive = await get(`${base}/healthz`);
        assert.deepEqual(alive, { status: 200, body: 'ok\n' });
        const starting = await get(`${base}/readyz`);
        assert.equal(starting.status, 503);
        assert.deepEqual(report(starting).failing, ['started']);
        let storeOk = false;
        server.setReadiness({
          nats: () => passed('connected'),
          store: () => (storeOk ? passed() : failed('disk full')),
        });
        const notReady = await get(`${base}/readyz`);
        assert.equal(notReady.status, 503);
        assert.deepEqual(report(notReady), {
          ready: false,
          failing: ['store'],
          checks: { nats: { ok: true, detail: 'connected' }, store: { ok: false, detail: 'disk full' } },
        });
        storeOk = true;
        const ready = await get(`${base}/readyz`);
        assert.equal(ready.status, 200);
        assert.deepEqual(report(ready).failing, []);
        assert.equal(report(ready).ready, true);
        const unknown = await get(`${base}/health`);
        assert.equal(unknown.status, 404);
        assert.match(unknown.body, /\/metrics, \/healthz, \/readyz/);
      } finally {
        await server.close();
      }
    });

    it('a check that throws or hangs fails, named, without holding up the others', async () => {
      const r = await evaluateReadiness(
        {
          fine: () => passed(),
          throws: () => {
            throw new Error('boom');
          },
          hangs: () => new Promise(() => undefined),
        },
        50,
      );
      assert.deepEqual(r.failing, ['throws', 'hangs']);
      assert.equal(r.checks.throws.detail, 'check failed: boom');
      assert.equal(r.checks.hangs.detail, 'no answer within 50 ms');
      assert.equal(r.checks.fine.ok, true);
    });
  });

  it("the orchestrator's store check fails while another connection holds the store's write lock", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hpo-health-store-'));
    const store = SqliteStore.open(join(dir, 's.db'));
    await store.createExperiment('e', makeSpace(), 'test');
    const locker = new Database(join(dir, 's.db'));
    const lease = await holdLease(store, 'e', {}, 15_000, (m) => assert.fail(m));
    try {
      const checks = orchestratorReadiness({ lease, staleMs: 15_000 });
      const until = async (want: boolean) => {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const r = await evaluateReadiness(checks);
          if (r.checks.store.ok === want) return r;
          if (Date.now() > deadline) throw new Error(`store check still not ${want}: ${JSON.stringify(r)}`);
          await new Promise((res) => setTimeout(res, 200));
        }
      };
      assert.deepEqual(Object.keys(checks), ['store', 'lease']);
      await until(true);
      locker.exec('BEGIN EXCLUSIVE'); // the lease's next heartbeat (a write) waits 5 s, then fails
      const stuck = await until(false);
      assert.deepEqual(stuck.failing, ['store'], JSON.stringify(stuck));
      assert.match(stuck.checks.store.detail ?? '', /cannot write .*(locked|busy)/i, JSON.stringify(stuck));
      locker.exec('ROLLBACK');
      assert.equal((await until(true)).ready, true);
    } finally {
      await lease.release();
      locker.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('a real hpo search --nats and hpo worker', () => {
    let nats: NatsServerHandle;
    let dir: string;
    const children: ChildProcess[] = [];

    before(async () => {
      nats = await startNatsServer();
      dir = await mkdtemp(join(tmpdir(), 'hpo-health-'));
    });
    after(async () => {
      for (const c of children) {
        if (c.exitCode === null && c.signalCode === null) {
          const gone = new Promise((r) => c.once('exit', r));
          c.kill('SIGKILL');
          await gone;
        }
      }
      await nats?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** Starts `hpo ...args --metrics-port 0` and returns the base URL it serves on. */
    const start = async (
      args: string[],
    ): Promise<{ base: string; output: () => string; child: ChildProcess }> => {
      const child = startHpo([...args, '--metrics-port', '0']);
      children.push(child);
      const output = captureOutput(child);
      await waitForOutput(output, /hpo: metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/, child);
      const url = /hpo: metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(output())![1];
      return { base: url, output, child };
    };

    it('a search without NATS: ready with store and lease only', async () => {
      const space = join(dir, 'local.yaml');
      await writeFile(
        space,
        'method: grid\ntask: synthetic\nparameters:\n  a: {values: [1, 2]}\n  epochs: {value: 50}\n  sleep_ms: {value: 400}\n',
      );
      const search = await start([
        'search',
        space,
        '--name',
        'local',
        '--db',
        join(dir, 'l.db'),
        '--workers',
        '1',
      ]);
      const r = report(await waitForAnswer(`${search.base}/readyz`, (a) => a.status === 200));
      assert.deepEqual(Object.keys(r.checks), ['store', 'lease'], JSON.stringify(r));
      assert.equal(r.checks.lease.detail, 'held in the store');
      search.child.kill('SIGKILL'); // done with it: the next test needs the cores
    });

    it('ready when connected; 503 naming nats while nats-server is down; ready again after it restarts', async () => {
      const space = join(dir, 'space.yaml');
      // Long enough to outlast the test (it is killed at the end): 6 trials of 50 epochs of 0.4 s, one at a time.
      await writeFile(
        space,
        'method: grid\ntask: synthetic\nparameters:\n  a: {values: [1, 2, 3, 4, 5, 6]}\n  epochs: {value: 50}\n  sleep_ms: {value: 400}\n',
      );
      const worker = await start(workerArgs(nats.url, 'hw', { concurrency: 1 }));
      const search = await start([
        'search',
        space,
        '--name',
        'health',
        '--db',
        join(dir, 'h.db'),
        '--nats',
        nats.url,
      ]);
      const ok = (a: Answer) => a.status === 200;
      const w = report(await waitForAnswer(`${worker.base}/readyz`, ok));
      assert.deepEqual(Object.keys(w.checks), ['nats', 'pool'], JSON.stringify(w));
      const s = report(await waitForAnswer(`${search.base}/readyz`, ok));
      assert.deepEqual(Object.keys(s.checks), ['nats', 'store', 'lease'], JSON.stringify(s));
      assert.ok(
        Object.values(s.checks).every((c) => c.ok),
        JSON.stringify(s),
      );
      for (const base of [worker.base, search.base]) assert.equal((await get(`${base}/healthz`)).status, 200);

      await nats.down();
      const namesNats = (a: Answer) => a.status === 503 && report(a).failing.includes('nats');
      for (const p of [worker, search]) {
        const down = report(await waitForAnswer(`${p.base}/readyz`, namesNats));
        assert.match(down.checks.nats.detail ?? '', /disconnected|closed|reconnecting/, JSON.stringify(down));
        // Alive all the same: a liveness probe must not restart a process waiting for its server.
        assert.equal((await get(`${p.base}/healthz`)).status, 200);
      }

      await nats.up();
      for (const p of [worker, search]) {
        const back = await waitForAnswer(`${p.base}/readyz`, ok);
        assert.equal(report(back).ready, true, `${back.body}\n${p.output()}`);
      }
    });
  });
});
