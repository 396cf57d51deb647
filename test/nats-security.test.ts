/**
 * Security defaults against a real nats-server configured to require them: token auth, user/password,
 * TLS with a CA made here (openssl), credentials never printed (wrong ones, ones inside a URL, the
 * right ones through a whole search), and a worker that runs only its registered tasks.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsTransport } from '../orchestrator/transport/nats/index.js';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import { NatsWorker, connectNats, displayServers } from '../worker/nats/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { Recorder } from './contracts/transport.contract.js';
import { runHpo, startHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { makeTestCa, signTestCert } from './helpers/test-certs.js';
import { silentLogger } from '../shared/log/index.js';
import { jetstream } from '@nats-io/jetstream';
import { busNames, taskRoute } from '../shared/protocol/bus.js';
import { encodeMessage } from '../shared/protocol/validate.js';
import { workerArgs } from './helpers/spawn-worker.js';

const TOKEN = 'tok-7Hq2-secret-zz91';
const USER = 'alice';
const PASS = 'pw-Kx83-secret-qq07';

describe('NATS security: auth, TLS, no secret printed, registered tasks only', function () {
  this.timeout(300_000); // a hang guard: whole searches run on a loaded 2-core machine
  let dir: string;
  const servers: NatsServerHandle[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-sec-'));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  });
  const server = async (config: string, scheme?: 'nats' | 'tls') => {
    const s = await startNatsServer({ config, ...(scheme ? { scheme } : {}) });
    servers.push(s);
    return s;
  };

  it('token auth: the right token connects; a wrong or missing one is a clear error that prints no token', async () => {
    const s = await server(`authorization { token: "${TOKEN}" }\n`);
    const ok = await runHpo(['workers', '--nats', s.url, '--nats-token', TOKEN, '--wait', '200']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /0 worker\(s\)/);
    const wrong = 'tok-WRONG-guess-5521';
    for (const args of [['--nats-token', wrong], []]) {
      const r = await runHpo(['workers', '--nats', s.url, ...args, '--wait', '200']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*(authorization|authentication)/i,
      );
      assert.ok(!`${r.stdout}${r.stderr}`.includes(wrong), r.stderr);
      assert.ok(!`${r.stdout}${r.stderr}`.includes(TOKEN), r.stderr);
    }
  });

  it('user/password (from the environment, or inside the URL): right ones connect; wrong ones never printed', async () => {
    const s = await server(`authorization { users: [ { user: ${USER}, password: "${PASS}" } ] }\n`);
    const env = { HPO_NATS_USER: USER, HPO_NATS_PASS: PASS };
    const ok = await runHpo(['workers', '--nats', s.url, '--wait', '200'], env);
    assert.equal(ok.code, 0, ok.stderr);
    const wrong = await runHpo(['workers', '--nats', s.url, '--wait', '200'], {
      ...env,
      HPO_NATS_PASS: 'nope-Zq1-x',
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /cannot connect to NATS.*(authorization|authentication)/i);
    assert.ok(!wrong.stderr.includes('nope-Zq1-x') && !wrong.stderr.includes(PASS), wrong.stderr);
    // Credentials written into the URL are masked in every message.
    const inUrl = `nats://${USER}:bad-Url-Pass-9@127.0.0.1:${s.port}`;
    const r = await runHpo(['workers', '--nats', inUrl, '--wait', '200']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot connect to NATS at nats:\/\/\*\*\*@127\.0\.0\.1/);
    assert.ok(!r.stderr.includes('bad-Url-Pass-9'), r.stderr);
    assert.equal(displayServers([inUrl, 'tls://h:1']), `nats://***@127.0.0.1:${s.port}, tls://h:1`);
  });

  it('TLS with a CA made in the test: verified with --nats-tls-ca; refused without it', async () => {
    makeTestCa(dir);
    signTestCert(dir, 'server', ['subjectAltName=IP:127.0.0.1,DNS:localhost']);
    const s = await server(
      `tls { cert_file: "${join(dir, 'server.pem')}", key_file: "${join(dir, 'server.key')}" }\n`,
      'tls',
    );
    const ok = await runHpo([
      'workers',
      '--nats',
      s.url,
      '--nats-tls-ca',
      join(dir, 'ca.pem'),
      '--wait',
      '200',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const env = await runHpo(['workers', '--nats', s.url, '--wait', '200'], {
      HPO_NATS_TLS_CA: join(dir, 'ca.pem'),
    });
    assert.equal(env.code, 0, env.stderr);
    const untrusted = await runHpo(['workers', '--nats', s.url, '--wait', '200']);
    assert.equal(untrusted.code, 1);
    assert.match(
      untrusted.stderr,
      /cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: .*(certificate|self.signed)/i,
    );
  });

  it('a whole search with token auth prints the token nowhere: logs, outputs, status, HTTP API, metrics', async () => {
    const s = await server(`authorization { token: "${TOKEN}" }\n`);
    const space = join(dir, 'space.yaml');
    await writeFile(
      space,
      'method: grid\ntask: synthetic\nparameters:\n  a: {values: [1, 2]}\n  epochs: {value: 2}\n  sleep_ms: {value: 2000}\n',
    );
    const env = { HPO_NATS_TOKEN: TOKEN };
    const worker = startHpo(workerArgs(s.url, 'sw', { extra: ['--metrics-port', '0'] }), env);
    let workerOut = '';
    worker.stdout!.on('data', (d) => (workerOut += d));
    worker.stderr!.on('data', (d) => (workerOut += d));
    const metricsPattern = /metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/;
    /** Both /metrics endpoints bind 127.0.0.1 by default; each process prints its URL once registered. */
    const scrape = async (log: () => string): Promise<string> => {
      let m = metricsPattern.exec(log());
      for (let i = 0; !m && i < 600; i++) {
        await new Promise((res) => setTimeout(res, 50));
        m = metricsPattern.exec(log());
      }
      assert.ok(m, `/metrics binds 127.0.0.1 by default:\n${log()}`);
      return (await fetch(m[1])).text();
    };
    try {
      const scraped = [await scrape(() => workerOut)];
      assert.match(scraped[0], /^hpo_worker_slots\{worker="sw"\} 2$/m);
      // The only worker is frozen while status, the HTTP API and /metrics are asked, so the search
      // cannot finish (and stop answering) first on a loaded machine.
      worker.kill('SIGSTOP');
      const db = join(dir, 'sec.db');
      const search = startHpo(
        [
          'search',
          space,
          '--name',
          'sec',
          '--db',
          db,
          '--nats',
          s.url,
          '--nats-token',
          TOKEN,
          '--http-port',
          '0',
          '--metrics-port',
          '0',
        ],
        {},
      );
      let out = '';
      search.stdout!.on('data', (d) => (out += d));
      search.stderr!.on('data', (d) => (out += d));
      const status = await (async () => {
        for (let i = 0; i < 400; i++) {
          const r = await runHpo(['status', 'sec', '--nats', s.url, '--json'], env);
          if (r.code === 0) return r;
          await new Promise((res) => setTimeout(res, 50));
        }
        throw new Error(`no status answer:\n${out}`);
      })();
      const api = /api (http:\/\/127\.0\.0\.1:\d+)\/api\/status/.exec(out);
      assert.ok(api, `the HTTP API binds 127.0.0.1 by default:\n${out}`);
      const http = await (await fetch(`${api[1]}/api/status`)).text();
      scraped.push(await scrape(() => out));
      worker.kill('SIGCONT');
      const code = await new Promise<number | null>((res) => search.once('exit', res));
      assert.equal(code, 0, out);
      const board = await runHpo(['leaderboard', 'sec', '--db', db, '--format', 'json']);
      for (const text of [out, workerOut, status.stdout, status.stderr, board.stdout, http, ...scraped]) {
        assert.ok(!text.includes(TOKEN), `the token was printed:\n${text}`);
      }
      assert.match(out, /sec: completed; 2 completed/);
    } finally {
      worker.kill('SIGCONT');
      worker.kill('SIGKILL');
    }
  });

  it('a trial naming an unregistered task (a module path) is never handed to a worker, and one forged onto a task route is rejected, without running or importing anything', async () => {
    const s = await server('');
    const marker = join(dir, 'imported.txt');
    const evil = join(dir, 'evil.mjs');
    await writeFile(
      evil,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default { name: 'evil', run() {} };\n`,
    );
    const rec = new Recorder();
    const nc = await connectNats({ servers: [s.url] });
    const t = new NatsTransport(nc, { logger: silentLogger(), closeConnection: false });
    const w = new NatsWorker(
      await connectNats({ servers: [s.url] }),
      new TrialPool({ threads: 1, backend: 'cpu', name: 'w' }),
      {
        name: 'w',
        logger: silentLogger(),
        unreadableDelayMs: 100,
      },
    );
    const tasks = [evil, `file://${evil}`, '__proto__', 'constructor', '../tasks/registry.js'];
    try {
      await t.start(rec);
      await w.start();
      for (const [i, task] of tasks.entries()) {
        await t.submit({
          v: PROTOCOL_VERSION,
          experiment: 'sec-task',
          experiment_id: 'sec-task',
          trial_id: `x${i}`,
          attempt: 1,
          task,
          params: {},
          seed: 1,
        });
      }
      // Each task's route has no worker: the trials wait, and the transport says which tasks.
      const deadline = Date.now() + 60_000;
      while (t.waitingForWorkers().length < tasks.length) {
        if (Date.now() > deadline)
          assert.fail(`not reported waiting: ${JSON.stringify(t.waitingForWorkers())}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(
        t
          .waitingForWorkers()
          .map((x) => x.task)
          .sort(),
        [...tasks].sort(),
      );
      assert.deepEqual(rec.results, []);
      assert.equal(w.stats().refused + w.stats().trialsDone, 0, 'no worker was handed one');
      // Forged onto the route of a built-in task the worker pulls: it does not belong there, so the
      // worker rejects it unread (no import, no run).
      await jetstream(nc).publish(
        busNames().trialsSubject('sec-task', taskRoute('synthetic')),
        encodeMessage({ ...validSpecFor(evil), token: 'T'.repeat(22) }),
      );
      while (w.invalidMessages < 1) {
        if (Date.now() > deadline) assert.fail('the forged trial was not rejected');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(w.stats().trialsDone, 0);
      assert.equal(existsSync(marker), false, 'the module named by the message was imported');
    } finally {
      await t.close();
      await w.close();
      await nc.close();
    }
  });
});

/** A well-formed trial of `task` for experiment sec-task. */
function validSpecFor(task: string) {
  return {
    v: PROTOCOL_VERSION,
    experiment: 'sec-task',
    experiment_id: 'sec-task',
    trial_id: 'forged',
    attempt: 1,
    task,
    params: {},
    seed: 1,
  };
}
