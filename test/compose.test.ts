/**
 * deploy/docker-compose.yml on a real docker host (issue 27 item 5; no docker engine here, so Debian's
 * docker-compose 1.29 resolves the file and the parts that run without docker are run): the dashboard
 * service over the orchestrator's store, resource limits, Grafana's admin password required from the
 * environment, the user's task modules mounted read-only into the workers, NATS on the tests' 2.9 line,
 * and healthchecks whose commands work (run with node against a real `hpo dashboard` and an HTTP server
 * answering /readyz).
 */
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { findExecutable } from '../cli/find-executable.js';
import { dashboardDb } from './helpers/dashboard-db.js';
import { spawnHpo, until, type Proc } from './helpers/proc.js';
import { runHpo } from './helpers/cli.js';
import { freePort } from './helpers/nats-server.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILE = join(ROOT, 'deploy', 'docker-compose.yml');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Service = Record<string, any>;

const SECRETS: Record<string, string> = {
  HPO_NATS_ORCHESTRATOR_PASSWORD: 'o',
  HPO_NATS_WORKER_PASSWORD: 'w',
  HPO_NATS_VIEWER_PASSWORD: 'v',
  GRAFANA_ADMIN_PASSWORD: 'g',
};

function compose(): string {
  const bin = findExecutable('docker-compose');
  assert.ok(bin, 'docker-compose (test/setup/ensure-tools.sh installs it)');
  return bin;
}

/** The file as docker-compose resolves it with `env` (only these variables, plus PATH). */
async function resolved(env: Record<string, string>): Promise<Record<string, Service>> {
  const { stdout } = await run(compose(), ['-f', FILE, '--profile', 'gpu', 'config'], {
    env: { PATH: process.env.PATH, ...env },
  });
  return parse(stdout).services;
}

/** Runs a healthcheck's `CMD node -e ...` with its URL's port replaced by `port`; its exit code. */
function runHealthcheck(test: string[], port: number): Promise<number | null> {
  assert.deepEqual(test.slice(0, 3), ['CMD', 'node', '-e']);
  const script = test[3].replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`);
  return new Promise((done) => spawn(process.execPath, ['-e', script], { stdio: 'ignore' }).on('exit', done));
}

/** The port and path a healthcheck asks. */
function healthTarget(svc: Service): { port: number; path: string } {
  const m = /http:\/\/127\.0\.0\.1:(\d+)(\/[^']*)'/.exec(svc.healthcheck.test[3]);
  assert.ok(m, svc.healthcheck.test[3]);
  return { port: Number(m[1]), path: m[2] };
}

const option = (cmd: string[], name: string) => cmd[cmd.indexOf(name) + 1];

describe('compose on a docker host (deploy/docker-compose.yml)', function () {
  this.timeout(120_000);
  let services: Record<string, Service>;
  const procs: Proc[] = [];
  const servers: Server[] = [];

  before(async () => {
    services = await resolved(SECRETS);
  });

  after(() => {
    for (const p of procs) p.child.kill('SIGKILL');
    for (const s of servers) s.close();
  });

  it('refuses to start without a Grafana admin password, and passes the one given to Grafana', async () => {
    const { GRAFANA_ADMIN_PASSWORD: _g, ...without } = SECRETS;
    await assert.rejects(resolved(without), /GRAFANA_ADMIN_PASSWORD/);
    assert.equal(services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD, 'g');
  });

  it('runs NATS on the 2.9 line, as the tests do', async () => {
    const nats = findExecutable('nats-server');
    assert.ok(nats, 'nats-server');
    const { stdout } = await run(nats, ['--version']);
    const tested = /v(\d+\.\d+)\./.exec(stdout)![1];
    assert.match(services.nats.image, new RegExp(`^nats:${tested.replace('.', '\\.')}\\.\\d+-alpine$`));
  });

  it('every service has CPU and memory limits; a worker runs as many trial threads as its CPU limit', async () => {
    for (const [name, svc] of Object.entries(services)) {
      assert.ok(Number(svc.cpus) > 0, `${name}: cpus`);
      assert.match(String(svc.mem_limit), /^\d+[kmg]?$/, `${name}: mem_limit`);
    }
    for (const cpus of ['2', '5']) {
      const worker = (await resolved({ ...SECRETS, HPO_WORKER_CPUS: cpus, HPO_WORKER_MEMORY: '6g' })).worker;
      assert.equal(Number(worker.cpus), Number(cpus));
      assert.equal(option(worker.command, '--concurrency'), cpus);
      assert.equal(worker.mem_limit, '6g');
    }
  });

  it('mounts the task modules read-only into every worker, from HPO_TASKS_DIR or deploy/tasks', async () => {
    const own = join(ROOT, 'examples/own-tfjs-model');
    const withOwn = await resolved({ ...SECRETS, HPO_TASKS_DIR: own });
    for (const name of ['worker', 'worker-gpu']) {
      const dir = option(services[name].command, '--tasks-dir');
      assert.ok(services[name].volumes.includes(`${resolve(ROOT, 'deploy/tasks')}:${dir}:ro`), name);
      assert.ok(withOwn[name].volumes.includes(`${own}:${dir}:ro`), name);
    }
    assert.ok(existsSync(join(ROOT, 'deploy/tasks/README.md')), 'the default folder exists');
    for (const name of ['orchestrator', 'dashboard', 'nats', 'prometheus', 'grafana'])
      assert.ok(!services[name].volumes?.some((v: string) => v.includes(':/tasks')), name);
  });

  it("a task module in the workers' folder imports 'hpo' as in the images (/node_modules/hpo -> /app)", async () => {
    for (const f of ['Dockerfile', 'Dockerfile.gpu']) {
      const text = readFileSync(join(ROOT, 'deploy', f), 'utf8');
      assert.match(text, /^WORKDIR \/app$/m, f);
      assert.match(text, /^RUN .*ln -s \/app \/node_modules\/hpo$/m, f);
    }
    // The images' layout here: <root>/node_modules/hpo -> this checkout (/app), the module in <root>/tasks.
    const root = mkdtempSync(join(tmpdir(), 'hpo-image-'));
    try {
      mkdirSync(join(root, 'tasks'));
      mkdirSync(join(root, 'node_modules'));
      copyFileSync(
        join(ROOT, 'examples/own-tfjs-model/circles-task.mjs'),
        join(root, 'tasks/circles-task.mjs'),
      );
      const cmd = (services.worker.command as string[]).map((a) =>
        a === '/tasks' ? join(root, 'tasks') : a,
      );
      cmd[cmd.indexOf('--metrics-port') + 1] = '0';
      cmd[cmd.indexOf('--metrics-host') + 1] = '127.0.0.1';
      // No NATS listens there: a worker whose modules loaded stops at the connection (exit 1).
      const argv = [...cmd, '--nats', `nats://127.0.0.1:${await freePort()}`, '--nats-wait', '0'];
      const without = await runHpo(argv);
      assert.equal(without.code, 2, without.stderr);
      assert.match(without.stderr, /cannot import it: Cannot find package 'hpo'/);
      symlinkSync(ROOT, join(root, 'node_modules/hpo'));
      const linked = await runHpo(argv);
      assert.doesNotMatch(linked.stderr, /cannot import/);
      assert.match(linked.stderr, /cannot connect to NATS/);
      assert.equal(linked.code, 1, linked.stderr);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('serves the dashboard over the orchestrator store (a read-write volume: SQLite WAL readers)', () => {
    const orch = services.orchestrator;
    const dash = services.dashboard;
    assert.equal(dash.command[0], 'dashboard');
    const db = option(dash.command, '--db');
    assert.equal(db, option(orch.command, '--db'));
    const mountOf = (svc: Service) => svc.volumes.find((v: string) => db.startsWith(v.split(':')[1] + '/'));
    assert.equal(mountOf(dash), mountOf(orch));
    assert.ok(
      !mountOf(dash).endsWith(':ro'),
      'a finished store has no -wal/-shm, which a reader must create',
    );
    const port = option(dash.command, '--port');
    assert.ok(
      dash.ports.some((p: string) => p.includes(`:${port}:${port}`)),
      dash.ports.join(' '),
    );
    assert.equal(option(dash.command, '--host'), '0.0.0.0');
    assert.equal(dash.environment.HPO_NATS_USER, 'viewer');
    assert.equal(dash.restart, 'unless-stopped');
  });

  it('the hpo services check /readyz on their metrics port; the commands pass on 200 and fail otherwise', async () => {
    let status = 200;
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url!);
      res.writeHead(req.url === '/readyz' ? status : 404).end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    for (const name of ['orchestrator', 'worker', 'worker-gpu']) {
      const svc = services[name];
      const target = healthTarget(svc);
      assert.equal(target.path, '/readyz', name);
      assert.equal(String(target.port), option(svc.command, '--metrics-port'), name);
      status = 200;
      assert.equal(await runHealthcheck(svc.healthcheck.test, port), 0, `${name}: ready`);
      status = 503;
      assert.equal(await runHealthcheck(svc.healthcheck.test, port), 1, `${name}: not ready`);
    }
    assert.ok(asked.length === 6 && asked.every((u) => u === '/readyz'), asked.join(' '));
  });

  it("the dashboard's healthcheck passes against a real hpo dashboard and fails once it is gone", async () => {
    const { file, store } = await dashboardDb(4);
    await store.close();
    const dash = spawnHpo(['dashboard', '--db', file, '--port', '0']);
    procs.push(dash);
    let url: URL | undefined;
    await until(
      'the dashboard URL',
      () => {
        const m = /at (http:\/\/\S+)/.exec(dash.out());
        if (m) url = new URL(m[1]);
        return url !== undefined;
      },
      60_000,
      dash,
    );
    const test = services.dashboard.healthcheck.test;
    assert.equal(String(healthTarget(services.dashboard).port), option(services.dashboard.command, '--port'));
    assert.equal(await runHealthcheck(test, Number(url!.port)), 0);
    dash.child.kill('SIGTERM');
    await dash.exit;
    assert.equal(await runHealthcheck(test, Number(url!.port)), 1);
  });
});
