/**
 * The shipped deploy configs: promtool accepts every Prometheus config (with its file_sd target files),
 * docker-compose accepts the compose file (with and without the gpu profile), and the pieces agree with
 * each other (data source uid, dashboards mount, metrics port).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { PROMETHEUS } from '../dashboards/src/index.js';
import { findExecutable } from '../cli/find-executable.js';
import { assertHpoCommand } from './helpers/hpo-command.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');

/** Every prometheus*.yml under deploy/ (but deploy/k8s, whose config test/k8s.test.ts checks). */
function prometheusConfigs(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (/^prometheus.*\.ya?ml$/.test(e.name) && !/provisioning|k8s/.test(dir))
        out.push(join(dir, e.name));
    }
  };
  walk(DEPLOY);
  return out;
}

function tool(name: string): string {
  const bin = findExecutable(name);
  if (!bin) throw new Error(`${name} not found (test/setup/ensure-tools.sh installs it)`);
  return bin;
}

/** A Dockerfile's instructions, continuation lines joined, comments dropped. */
function dockerSteps(text: string): { op: string; args: string }[] {
  const joined = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l.trim())!;
      return { op: m[1].toUpperCase(), args: m[2].replace(/\s+/g, ' ').trim() };
    });
}

interface Compose {
  services: Record<
    string,
    { command?: string[]; volumes?: string[]; profiles?: string[]; build?: { dockerfile: string } }
  >;
}

// The compose file requires the NATS users' passwords and Grafana's admin password (deploy/README.md).
for (const role of ['ORCHESTRATOR', 'WORKER', 'VIEWER']) process.env[`HPO_NATS_${role}_PASSWORD`] ??= 'test';
process.env.GRAFANA_ADMIN_PASSWORD ??= 'test';

describe('deploy configs', function () {
  this.timeout(60_000);

  it('promtool check config accepts every shipped Prometheus config', async () => {
    const configs = prometheusConfigs();
    assert.deepEqual(configs.map((c) => c.slice(DEPLOY.length + 1)).sort(), [
      'local/prometheus.yml',
      'prometheus/prometheus.yml',
    ]);
    for (const config of configs) {
      const { stdout } = await run(tool('promtool'), ['check', 'config', config]);
      assert.match(stdout, /SUCCESS/, config);
    }
  });

  it('promtool rejects a broken config (the check can fail)', async () => {
    await assert.rejects(
      run(tool('promtool'), ['check', 'config', join(ROOT, 'deploy', 'docker-compose.yml')]),
      /FAILED|field .* not found/,
    );
  });

  for (const profile of [[], ['--profile', 'gpu']]) {
    it(`docker-compose config accepts deploy/docker-compose.yml ${profile.join(' ') || '(default)'}`, async () => {
      await run(tool('docker-compose'), [
        '-f',
        join(DEPLOY, 'docker-compose.yml'),
        ...profile,
        'config',
        '-q',
      ]);
      const { stdout } = await run(tool('docker-compose'), [
        '-f',
        join(DEPLOY, 'docker-compose.yml'),
        ...profile,
        'config',
        '--services',
      ]);
      // docker-compose 1.29 lists profile services too.
      const services = stdout.trim().split('\n').sort();
      assert.deepEqual(services, [
        'dashboard',
        'grafana',
        'nats',
        'orchestrator',
        'prometheus',
        'worker',
        'worker-gpu',
      ]);
    });
  }

  it('compose runs NATS with the least-privilege users and publishes ports on 127.0.0.1 by default', () => {
    const compose = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8')) as Compose & {
      services: Record<string, { ports?: string[]; environment?: Record<string, string> }>;
    };
    assert.deepEqual(compose.services.nats.command!.slice(0, 2), ['-c', '/etc/nats/nats-server.conf']);
    assert.ok(compose.services.nats.volumes!.includes('./nats:/etc/nats:ro'));
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const port of svc.ports ?? [])
        assert.match(port, /^\$\{HPO_BIND:-127\.0\.0\.1\}:\d+:\d+$/, `${name}: ${port}`);
    }
    assert.equal(compose.services.orchestrator.environment!.HPO_NATS_USER, 'orchestrator');
    assert.equal(compose.services.dashboard.environment!.HPO_NATS_USER, 'viewer');
    for (const w of ['worker', 'worker-gpu'])
      assert.equal(compose.services[w].environment!.HPO_NATS_USER, 'worker');
  });

  it('the compose services, Prometheus and Grafana provisioning agree', () => {
    const compose = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8')) as Compose;
    // Grafana's dashboard provider reads the folder the compose file mounts dashboards/ at.
    const provider = parse(readFileSync(join(DEPLOY, 'grafana/provisioning/dashboards/hpo.yml'), 'utf8'));
    const mount = compose.services.grafana.volumes!.find((v) => v.startsWith('../dashboards:'))!;
    assert.equal(mount.split(':')[1], provider.providers[0].options.path);
    // The dashboards pick a Prometheus through their datasource variable: the provisioned one is the default.
    const ds = parse(readFileSync(join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
    assert.equal(PROMETHEUS.uid, '${datasource}');
    assert.equal(ds.datasources[0].type, 'prometheus');
    assert.equal(ds.datasources[0].isDefault, true);
    assert.equal(ds.datasources[0].url, 'http://prometheus:9090');
    // Prometheus finds every hpo service by its compose name on the port the services serve /metrics on.
    const prom = parse(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8'));
    const sd = prom.scrape_configs.flatMap(
      (j: { dns_sd_configs?: Array<{ names: string[]; port: number }> }) => j.dns_sd_configs ?? [],
    );
    for (const name of ['orchestrator', 'worker', 'worker-gpu']) {
      const cmd = compose.services[name].command!;
      const port = Number(cmd[cmd.indexOf('--metrics-port') + 1]);
      assert.equal(cmd[cmd.indexOf('--metrics-host') + 1], '0.0.0.0', name);
      assert.ok(
        sd.some((c: { names: string[]; port: number }) => c.names.includes(name) && c.port === port),
        `${name}:${port} is scraped`,
      );
    }
    // The orchestrator waits for a healthy NATS, restarts on failure and resumes its experiment then.
    const services = compose.services as Record<string, Record<string, unknown>>;
    assert.ok(services.nats.healthcheck, 'nats has a healthcheck');
    for (const name of ['orchestrator', 'dashboard', 'worker', 'worker-gpu']) {
      assert.deepEqual(services[name].depends_on, { nats: { condition: 'service_healthy' } }, name);
    }
    assert.equal(services.orchestrator.restart, 'on-failure');
    const orch = compose.services.orchestrator.command!;
    assert.ok(orch.includes('--resume-existing') && orch.includes('--name'), orch.join(' '));
    assert.deepEqual(compose.services['worker-gpu'].profiles, ['gpu']);
    for (const name of ['orchestrator', 'dashboard', 'worker', 'worker-gpu'])
      assertHpoCommand(compose.services[name].command!);
    assert.equal(compose.services['worker-gpu'].build!.dockerfile, 'deploy/Dockerfile.gpu');
  });

  it('the Dockerfiles use the agreed bases; the GPU image is CUDA 12 and builds the binding with hpo setup', () => {
    const cpu = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    const gpu = readFileSync(join(DEPLOY, 'Dockerfile.gpu'), 'utf8');
    assert.match(cpu, /^FROM node:20-bookworm-slim/m);
    assert.match(gpu, /^FROM nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu(22|24)\.04$/m);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.ok(pkg.optionalDependencies['@tensorflow/tfjs-node-gpu'], 'package.json lists tfjs-node-gpu');
    const steps = dockerSteps(gpu);
    // Every COPY --from names a stage of the file; every other COPY source exists in the build context.
    const stages = steps.filter((s) => s.op === 'FROM').map((s) => / AS (\S+)$/i.exec(s.args)?.[1]);
    for (const copy of steps.filter((s) => s.op === 'COPY')) {
      const from = /^--from=(\S+)\s/.exec(copy.args)?.[1];
      if (from) assert.ok(stages.includes(from), `COPY --from=${from}: no such stage`);
      else for (const src of copy.args.split(/\s+/).slice(0, -1)) assert.ok(existsSync(join(ROOT, src)), src);
    }
    // The hpo commands it runs (RUN node bin/hpo.js ..., and ENTRYPOINT + CMD) parse as hpo commands.
    const runs = steps
      .filter((s) => s.op === 'RUN')
      .flatMap((s) => [...s.args.matchAll(/node bin\/hpo\.js ([^&;]+)/g)]);
    const hpoRuns = runs.map((m) =>
      m[1]
        .trim()
        .split(/\s+/)
        .map((w) => w.replace(/^"|"$/g, '')),
    );
    assert.deepEqual(
      hpoRuns.map((a) => a.slice(0, 3)),
      [['setup', 'tensorflow', '--gpu']],
    );
    const entry = JSON.parse(steps.find((s) => s.op === 'ENTRYPOINT')!.args) as string[];
    const cmd = JSON.parse(steps.find((s) => s.op === 'CMD')!.args) as string[];
    assert.deepEqual(entry, ['node', '/app/bin/hpo.js']);
    for (const argv of [...hpoRuns, cmd]) assertHpoCommand(argv);
    assert.deepEqual(cmd.slice(0, 5), ['worker', '--backend', 'tensorflow-gpu', '--gpus', 'all']);
    // npm ci leaves out the optional tfjs-node packages (their install script fetches CUDA 11 libraries).
    assert.ok(steps.some((s) => s.op === 'RUN' && /npm ci --omit=optional/.test(s.args)));
  });
});
