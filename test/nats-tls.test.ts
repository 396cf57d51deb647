/**
 * The shipped TLS setup on a real nats-server 2.9: deploy/nats/nats-server-tls.conf (the three roles of
 * nats-server.conf plus mutual TLS) with a CA and certificates made by deploy/tls/make-dev-ca.sh. A
 * plain-text client is refused (a raw socket and `hpo`), so is a TLS client without a client certificate,
 * one whose certificate comes from another CA, and one with the right certificate and a wrong password;
 * a search as orchestrator and a worker as worker, each with its own certificate, run a small search to
 * the end over TLS while a viewer lists the workers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { findExecutable } from '../cli/find-executable.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { captureOutput, runHpo, startHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { ROLE_PASSWORDS, type Role, asRole } from './helpers/nats-roles.js';
import { workerArgs } from './helpers/spawn-worker.js';

const TLS_CONFIG = fileURLToPath(new URL('../../deploy/nats/nats-server-tls.conf', import.meta.url));
const MAKE_DEV_CA = fileURLToPath(new URL('../../deploy/tls/make-dev-ca.sh', import.meta.url));
const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: (string | { source: string; target: string })[];
}

/** What a client without TLS gets from the TLS port: the server's INFO, then (after CONNECT) its answer. */
function plainTextExchange(port: number, user: Role): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let text = '';
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`${text}\n[no answer within 20 s]`);
    }, 20_000);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (!sent && text.includes('\r\n')) {
        sent = true;
        const connect = { verbose: false, pedantic: false, user, pass: asRole(user).HPO_NATS_PASS };
        socket.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
      }
    });
    socket.on('error', () => undefined); // a reset after the server closes: the close below reports
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(`${text}\n[closed]`);
    });
  });
}

describe('NATS over TLS: deploy/nats/nats-server-tls.conf and deploy/tls/make-dev-ca.sh', function () {
  this.timeout(300_000); // a hang guard: a whole search on a loaded 2-core machine
  let dir: string;
  let ca: string;
  let otherCa: string;
  let server: NatsServerHandle | undefined;
  const pem = (name: string, from = ca) => join(from, `${name}.pem`);
  /** The environment of an `hpo` process connecting as `role` with its certificate (from `from`). */
  const tlsAs = (role: Role, from = ca) => ({
    ...asRole(role),
    HPO_NATS_TLS_CA: pem('ca'),
    HPO_NATS_TLS_CERT: pem(role, from),
    HPO_NATS_TLS_KEY: join(from, `${role}.key`),
  });

  before(async function () {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch (err) {
      throw new Error('this test needs openssl on PATH (Debian/Ubuntu: apt-get install -y openssl)', {
        cause: err,
      });
    }
    dir = await mkdtemp(join(tmpdir(), 'hpo-tls-'));
    ca = join(dir, 'ca');
    otherCa = join(dir, 'other-ca');
    execFileSync(MAKE_DEV_CA, ['-o', ca, '-d', '2', 'localhost', '127.0.0.1'], { stdio: 'pipe' });
    execFileSync(MAKE_DEV_CA, ['-o', otherCa, '-d', '2', '127.0.0.1'], { stdio: 'pipe' });
    server = await startNatsServer({
      configFile: TLS_CONFIG,
      scheme: 'tls',
      env: {
        ...ROLE_PASSWORDS,
        HPO_NATS_SERVER_CERT: pem('server'),
        HPO_NATS_SERVER_KEY: join(ca, 'server.key'),
        HPO_NATS_CA: pem('ca'),
      },
    });
  });
  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the compose overlay: docker-compose accepts it; every TLS file a service names is a mounted file make-dev-ca.sh makes', () => {
    const bin = findExecutable('docker-compose');
    if (!bin) throw new Error('docker-compose not found (test/setup/ensure-tools.sh installs it)');
    const files = ['-f', join(DEPLOY, 'docker-compose.yml'), '-f', join(DEPLOY, 'docker-compose.tls.yml')];
    const merged = execFileSync(bin, [...files, '--profile', 'gpu', 'config'], {
      env: { ...process.env, ...ROLE_PASSWORDS, GRAFANA_ADMIN_PASSWORD: 'test' },
      encoding: 'utf8',
    });
    const services = (parse(merged) as { services: Record<string, ComposeService> }).services;
    assert.deepEqual(services.nats.command?.slice(0, 2), ['-c', '/etc/nats/nats-server-tls.conf']);
    const made = new Set(readdirSync(ca));
    const roles: Record<string, string> = {
      orchestrator: 'orchestrator',
      worker: 'worker',
      'worker-gpu': 'worker',
      dashboard: 'viewer',
    };
    for (const [name, svc] of Object.entries(services)) {
      const env = svc.environment ?? {};
      const wanted = Object.entries(env).filter(([k]) =>
        /^HPO_NATS_(TLS_|SERVER_CERT|SERVER_KEY|CA$)/.test(k),
      );
      if (name in roles) {
        assert.equal(env.HPO_NATS_URL, 'tls://nats:4222', name);
        assert.equal(env.HPO_NATS_TLS_CERT, `/etc/hpo/tls/${roles[name]}.pem`, name);
      }
      for (const [key, path] of wanted) {
        const mount = (svc.volumes ?? [])
          .map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v))
          .find((v) => v.target === path);
        assert.ok(mount, `${name}: ${key}=${path} is not mounted`);
        assert.ok(
          made.has(basename(mount.source)),
          `${name}: ${mount.source} is not a file make-dev-ca.sh makes`,
        );
      }
    }
    assert.ok(Object.keys(services.nats.environment ?? {}).includes('HPO_NATS_SERVER_CERT'));
  });

  it('make-dev-ca.sh leaves an existing CA alone', () => {
    assert.throws(
      () => execFileSync(MAKE_DEV_CA, ['-o', ca], { stdio: 'pipe' }),
      (err: Error & { status?: number; stderr?: Buffer }) =>
        err.status === 1 && /ca\.pem exists: left alone/.test(String(err.stderr)),
    );
  });

  it('a plain-text client is refused: closed without a PONG on a raw socket; hpo without the CA fails', async () => {
    const raw = await plainTextExchange(server!.port, 'viewer');
    assert.match(raw, /^INFO .*"tls_required":true/, raw);
    assert.doesNotMatch(raw, /PONG|\+OK/, raw);
    assert.match(raw, /\[closed\]$/, raw);
    const plain = await runHpo(['workers', '--nats', `nats://127.0.0.1:${server!.port}`, '--wait', '200'], {
      ...asRole('viewer'),
    });
    assert.equal(plain.code, 1, plain.stderr);
    assert.match(plain.stderr, /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: /);
  });

  it('refused: no client certificate, a certificate from another CA (a worker too, without retrying), the right certificate with a wrong password', async () => {
    const workers = (env: NodeJS.ProcessEnv) =>
      runHpo(['workers', '--nats', server!.url, '--wait', '200'], env);
    const noCert = await workers({ ...asRole('viewer'), HPO_NATS_TLS_CA: pem('ca') });
    // Said at once and plainly (not a 20 s `timeout`, nor only OpenSSL's alert number).
    const refusedCert =
      /cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: the server refused this client's certificate/;
    assert.equal(noCert.code, 1, noCert.stderr);
    assert.match(noCert.stderr, refusedCert);
    const foreign = await workers(tlsAs('viewer', otherCa));
    assert.equal(foreign.code, 1, foreign.stderr);
    assert.match(foreign.stderr, refusedCert);
    // A worker keeps trying its first connection (--nats-wait) only while no server answers: a refused
    // certificate is final, so it stops at once instead of retrying.
    const worker = await runHpo(
      ['worker', '--nats', server!.url, '--nats-wait', '60', '--concurrency', '1', '--backend', 'cpu'],
      tlsAs('worker', otherCa),
    );
    assert.equal(worker.code, 1, worker.stderr);
    assert.match(worker.stderr, refusedCert);
    assert.doesNotMatch(worker.stderr, /retrying/, worker.stderr);
    const wrongPass = await workers({ ...tlsAs('viewer'), HPO_NATS_PASS: 'not-the-password' });
    assert.equal(wrongPass.code, 1, wrongPass.stderr);
    assert.match(wrongPass.stderr, /cannot connect to NATS.*(authorization|authentication)/i);
    // The server says why it refused the certificates (not a network accident).
    assert.match(server!.output(), /TLS handshake error/, server!.output());
  });

  it('each role with its certificate: a search as orchestrator and a worker as worker finish over TLS', async () => {
    const space = join(dir, 'space.yaml');
    await writeFile(
      space,
      'method: grid\ntask: synthetic\nparameters:\n  a: {values: [1, 2]}\n  epochs: {value: 2}\n  sleep_ms: {value: 1500}\n',
    );
    const db = join(dir, 'tls.db');
    const worker = startHpo(workerArgs(server!.url, 'tls-w'), tlsAs('worker'));
    const workerOut = captureOutput(worker);
    try {
      // Flags this time (the worker used the environment): --nats-tls-ca/--nats-tls-cert/--nats-tls-key.
      const search = await runHpo(
        [
          'search',
          space,
          '--name',
          'tls',
          '--db',
          db,
          '--nats',
          server!.url,
          '--nats-tls-ca',
          pem('ca'),
          '--nats-tls-cert',
          pem('orchestrator'),
          '--nats-tls-key',
          join(ca, 'orchestrator.key'),
        ],
        asRole('orchestrator'),
      );
      assert.equal(search.code, 0, `${search.stderr}\n--- worker:\n${workerOut()}`);
      const ws = await runHpo(['workers', '--nats', server!.url, '--wait', '1500'], tlsAs('viewer'));
      assert.equal(ws.code, 0, ws.stderr);
      assert.match(ws.stdout, /│ tls-w +│/, ws.stdout);
      const store = SqliteStore.open(db);
      try {
        const trials = await store.listTrials('tls');
        assert.deepEqual(
          trials.map((t) => [t.state, t.worker]),
          [
            ['completed', 'tls-w'],
            ['completed', 'tls-w'],
          ],
        );
      } finally {
        await store.close();
      }
    } finally {
      if (worker.exitCode === null) {
        const gone = new Promise((r) => worker.once('exit', r));
        worker.kill('SIGTERM');
        await gone;
      }
    }
  });
});
