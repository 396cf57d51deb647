/**
 * `hpo up` starts a real nats-server and a real Prometheus with the project's local config, both answer,
 * and Ctrl-C (SIGINT) stops both: their processes are gone when hpo exits. Without prometheus it says
 * what to install and exits non-zero.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strict as assert } from 'node:assert';
import { canConnect, freePort } from '../bench/nats-server.js';
import { findExecutable } from '../cli/find-executable.js';
import { runHpo, startHpo } from './helpers/cli.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('hpo up', function () {
  this.timeout(90_000);
  let stateDir: string;
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'hpo-up-'));
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('starts nats-server and Prometheus, both answer, and SIGINT stops both', async () => {
    const [natsPort, natsHttpPort, promPort] = [await freePort(), await freePort(), await freePort()];
    const child = startHpo([
      'up',
      '--state-dir',
      stateDir,
      '--nats-port',
      String(natsPort),
      '--nats-http-port',
      String(natsHttpPort),
      '--prometheus-port',
      String(promPort),
    ]);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!/Ctrl-C stops both servers/.test(stderr)) {
        assert.equal(child.exitCode, null, `hpo up exited early:\n${stderr}`);
        assert.ok(Date.now() < deadline, `hpo up not ready within 60 s:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const natsPid = Number(/nats-server \(pid (\d+)\)/.exec(stderr)![1]);
      const promPid = Number(/prometheus \(pid (\d+)\)/.exec(stderr)![1]);
      assert.match(stderr, new RegExp(`nats://127\\.0\\.0\\.1:${natsPort}`));

      assert.ok(await canConnect(natsPort), 'NATS accepts connections');
      const varz = (await (await fetch(`http://127.0.0.1:${natsHttpPort}/varz`)).json()) as {
        jetstream?: { config?: { store_dir?: string } };
      };
      assert.equal(varz.jetstream?.config?.store_dir, join(stateDir, 'nats', 'jetstream'));
      const ready = await fetch(`http://127.0.0.1:${promPort}/-/ready`);
      assert.equal(ready.status, 200);
      // Prometheus runs the project's local config: its hpo jobs are loaded.
      const config = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/status/config`)).json()) as {
        data: { yaml: string };
      };
      assert.match(config.data.yaml, /job_name: hpo-orchestrator/);
      assert.match(config.data.yaml, /job_name: hpo-worker/);
      assert.ok(alive(natsPid) && alive(promPid));

      child.kill('SIGINT');
      assert.equal(await exit, 0, stderr);
      assert.ok(!alive(natsPid), 'nats-server is gone');
      assert.ok(!alive(promPid), 'prometheus is gone');
      assert.equal(await canConnect(natsPort), false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('without prometheus installed, says what to install and exits 1', async () => {
    const res = await runHpo(['up', '--state-dir', stateDir, '--prometheus-bin', join(stateDir, 'none')], {
      PATH: '/nonexistent',
    });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /--prometheus-bin .*none: not an executable file/);
    // Without PATH, prometheus in /usr/bin (where Debian puts it) is not found.
    if (findExecutable('prometheus', { PATH: '/nonexistent' }) !== undefined) return;
    const res2 = await runHpo(['up', '--state-dir', stateDir], { PATH: '/nonexistent' });
    assert.equal(res2.code, 1, res2.stderr);
    assert.match(res2.stderr, /prometheus not found on PATH .*apt-get install -y prometheus/);
  });
});
