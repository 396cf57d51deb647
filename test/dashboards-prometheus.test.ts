/**
 * Every query of every dashboard panel returns data from a real Prometheus scraping real hpo processes:
 * an in-process `hpo search` (synthetic task, some trials fail: orchestrator and local-pool worker
 * metrics), and over a real nats-server an `hpo search --nats` (a small multi-digit-mnist training, for
 * images/s and tfjs memory) served by an `hpo worker`, and an `hpo worker --backend tensorflow-gpu` (on a
 * nats-server of its own, so it takes no trial) with a stand-in nvidia-smi on its PATH for the GPU panels
 * (there is no GPU here). Template variables are filled the way Grafana
 * would: query variables from their label_values() through the API, custom ones with their default,
 * $__rate_interval as 4 scrape intervals. Each expression runs as a range query over the run and must
 * give at least one series with a number in it.
 */
import { type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strict as assert } from 'node:assert';
import type { Dashboard, VariableModel } from '@grafana/schema';
import { allDashboards } from '../dashboards/src/index.js';
import { freePort } from '../bench/nats-server.js';
import { startHpo } from './helpers/cli.js';
import { startNatsServer, type NatsServerHandle } from './helpers/nats-server.js';
import { type PrometheusHandle, startPrometheus } from './helpers/prometheus.js';

const SYNTHETIC = `
method: random
metric: { name: val_acc, goal: maximize }
task: synthetic
seed: 3
run_cap: 10
parameters:
  arch: { values: [mlp, cnn] }
  optimizer: { values: [sgd, adam] }
  learning_rate: { distribution: log_uniform_values, min: 0.0001, max: 0.1 }
  batch_size: { values: [32, 64] }
  fail_at_epoch: { values: [0, 2] }
  sleep_ms: { value: 250 }
  epochs: { value: 4 }
`;

const MNIST = `
method: grid
metric: { name: val_acc, goal: maximize }
task: multi-digit-mnist
parameters:
  arch: { value: mlp }
  optimizer: { value: adam }
  learning_rate: { value: 0.001 }
  batch_size: { values: [64, 128, 256, 512] }
  epochs: { value: 3 }
  train_size: { value: 8000 }
`;
// Four trials on one worker slot, one after another, 12 epochs of 8,000 images: the worker's rate()
// panels (images/s, epoch time) need increases between scrapes (1 s apart), so the training must span
// several scrapes; 2,000 images and 2 epochs could all fall between two scrapes on a fast machine. The
// orchestrator's trial-duration and dispatch-latency panels are cumulative over the experiment (no rate),
// so they show the first result however fast the trials are (a rate over them failed CI once: all four
// results fell between two scrapes).

/** Grafana's $__rate_interval for a 1 s scrape interval and 1 s step: 4 scrape intervals. */
const RATE_INTERVAL = '4s';

interface Running {
  child: ChildProcess;
  name: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Prints what nvidia-smi prints for the worker's query (test/gpu-workers.test.ts checks the arguments). */
const NVIDIA_SMI = '#!/bin/sh\necho "0, 37, 2048, 16384"\necho "1, 81, 8192, 16384"\n';

function launch(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = startHpo(args, env);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, name, stderr: () => stderr, exit };
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `label_values(selector, label)` -> [label, selector]. */
function parseLabelValues(query: string): [string, string] {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim());
  if (!m) throw new Error(`not a label_values() query: ${query}`);
  return [m[2], m[1]];
}

/** Applies a Grafana `/regex/` variable filter. */
function regexFilter(values: string[], regex: string | undefined): string[] {
  if (!regex) return values;
  const m = /^\/(.*)\/([a-z]*)$/.exec(regex);
  const re = m ? new RegExp(m[1], m[2]) : new RegExp(regex);
  return values.filter((v) => re.test(v));
}

function substitute(expr: string, values: Record<string, string>): string {
  let out = expr.replaceAll('$__rate_interval', RATE_INTERVAL).replaceAll('$__interval', '1s');
  // Longest names first, so $top does not eat a prefix of a longer name.
  for (const name of Object.keys(values).sort((a, b) => b.length - a.length)) {
    out = out.replaceAll(`\${${name}}`, values[name]).replaceAll(`$${name}`, values[name]);
  }
  return out;
}

describe('dashboards against a real Prometheus', function () {
  this.timeout(240_000);
  let nats: NatsServerHandle | undefined;
  let gpuNats: NatsServerHandle | undefined;
  let prom: PrometheusHandle | undefined;
  let dir: string;
  const procs: Running[] = [];
  let start = 0;
  let end = 0;
  /** When the in-process search ended (its series go stale after its last scrape). */
  let localEnd = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hpo-dash-'));
    writeFileSync(join(dir, 'synthetic.yaml'), SYNTHETIC);
    writeFileSync(join(dir, 'mnist.yaml'), MNIST);
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'nvidia-smi'), NVIDIA_SMI);
    chmodSync(join(dir, 'bin', 'nvidia-smi'), 0o755);
    nats = await startNatsServer();
    gpuNats = await startNatsServer();
    const [localPort, natsSearchPort, workerPort, gpuWorkerPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    prom = await startPrometheus({
      jobs: [
        { job: 'hpo-orchestrator', targets: [`127.0.0.1:${localPort}`, `127.0.0.1:${natsSearchPort}`] },
        { job: 'hpo-worker', targets: [`127.0.0.1:${workerPort}`, `127.0.0.1:${gpuWorkerPort}`] },
      ],
    });
    start = Math.floor(Date.now() / 1000) - 1;
    const metrics = (port: number) => ['--metrics-port', String(port)];
    const worker = launch('hpo worker', [
      'worker',
      '--nats',
      nats.url,
      '--name',
      'dash-worker',
      '--concurrency',
      '1',
      ...metrics(workerPort),
    ]);
    const gpuWorker = launch(
      'hpo worker --backend tensorflow-gpu',
      [
        'worker',
        '--nats',
        gpuNats.url,
        '--name',
        'dash-gpu',
        '--backend',
        'tensorflow-gpu',
        ...metrics(gpuWorkerPort),
      ],
      { PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
    );
    procs.push(worker, gpuWorker);
    await waitFor('the worker', () => /metrics: http/.test(worker.stderr()), 60_000);
    await waitFor('the GPU worker', () => /metrics: http/.test(gpuWorker.stderr()), 60_000);
    const searches = [
      launch('hpo search (local pool)', [
        'search',
        join(dir, 'synthetic.yaml'),
        '--name',
        'dash-local',
        '--db',
        join(dir, 'local.db'),
        '--workers',
        '2',
        '--metrics-linger',
        '3',
        ...metrics(localPort),
      ]),
      launch('hpo search --nats', [
        'search',
        join(dir, 'mnist.yaml'),
        '--name',
        'dash-nats',
        '--db',
        join(dir, 'nats.db'),
        '--nats',
        nats.url,
        '--metrics-linger',
        '3',
        ...metrics(natsSearchPort),
      ]),
    ];
    procs.push(...searches);
    void searches[0].exit.then(() => (localEnd = Math.floor(Date.now() / 1000)));
    for (const s of searches) {
      const code = await s.exit;
      // Some synthetic trials fail on purpose (fail_at_epoch), which may make the exit code 1.
      assert.ok(code === 0 || code === 1, `${s.name} exited with ${code}:\n${s.stderr()}`);
      assert.doesNotMatch(
        s.stderr(),
        /TypeError|ReferenceError|^\s+at .*\.js:\d+/m,
        `${s.name}:\n${s.stderr()}`,
      );
    }
    end = Math.ceil(Date.now() / 1000);
    // One more scrape of the worker after the last trial.
    await new Promise((r) => setTimeout(r, 2000));
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exit));
    await prom?.stop();
    await nats?.stop();
    await gpuNats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scraped every process', async () => {
    const up = await prom!.queryRange(`max_over_time(up[${end - start + 1}s])`, end, end, 1);
    assert.equal(up.length, 4, JSON.stringify(await prom!.targets()));
    for (const s of up) assert.equal(s.values[0][1], 1, `target ${s.metric.instance} was scraped`);
  });

  it('a query of a metric nobody exports gives no data (the check above can fail)', async () => {
    assert.deepEqual(
      await prom!.queryRange('hpo_no_such_metric{experiment="dash-local"}', start, end, 1),
      [],
    );
    await assert.rejects(prom!.queryRange('sum by (', start, end, 1), /bad_data/);
  });

  /** Values for a dashboard's variables; `experiment` is one of the two searches. */
  async function variableValues(dash: Dashboard, experiment = 'dash-local'): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const v of dash.templating?.list ?? ([] as VariableModel[])) {
      if (v.type === 'custom') {
        values[v.name] = String(v.current!.value);
        continue;
      }
      // The data source picker: the queries here go to this Prometheus.
      if (v.type === 'datasource') continue;
      assert.equal(v.type, 'query', `${dash.title}: variable ${v.name}`);
      const [label, selector] = parseLabelValues(substitute(String(v.query), values));
      // The range of the run: label values of series seen while it ran.
      const found = regexFilter(await prom!.labelValues(label, selector), v.regex);
      assert.ok(found.length > 0, `${dash.title}: variable ${v.name} (${v.query}) has no values`);
      if (v.name === 'experiment') {
        assert.ok(found.includes('dash-local') && found.includes('dash-nats'), found.join());
        values[v.name] = experiment;
      } else if (v.includeAll) {
        values[v.name] = v.allValue ?? '.*';
      } else {
        values[v.name] = found[0];
      }
    }
    return values;
  }

  const cases = Object.entries(allDashboards()).flatMap(
    ([file, dash]): Array<{ file: string; dash: Dashboard; experiment?: string }> =>
      // Dashboards with an experiment picker are checked for both searches (local pool, and NATS).
      dash.templating?.list?.some((v) => v.name === 'experiment')
        ? [
            { file, dash, experiment: 'dash-local' },
            { file, dash, experiment: 'dash-nats' },
          ]
        : [{ file, dash, experiment: undefined }],
  );
  for (const { file, dash, experiment } of cases) {
    it(`every query of dashboards/${file} returns data${experiment ? ` (experiment ${experiment})` : ''}`, async () => {
      const values = await variableValues(dash, experiment);
      const failures: string[] = [];
      let checked = 0;
      for (const panel of dash.panels ?? []) {
        if (!('targets' in panel)) continue;
        for (const target of panel.targets ?? []) {
          const expr = substitute(String(target.expr), values);
          assert.doesNotMatch(expr, /\$/, `${panel.title}: unsubstituted variable in ${expr}`);
          const series = await prom!.queryRange(expr, start, end, 1);
          const withData = series.filter((s) => s.values.some(([, v]) => Number.isFinite(v)));
          checked++;
          if (withData.length === 0) {
            failures.push(
              `${panel.title} [${target.refId}]: ${series.length} series, none with a number: ${expr}`,
            );
          }
        }
      }
      assert.ok(checked >= 10, `${file}: only ${checked} queries`);
      assert.deepEqual(failures, [], `${file}: queries without data:\n${failures.join('\n')}`);
    });
  }

  it('the leaderboard joins the objective with the trial parameters', async () => {
    const dash = allDashboards()['search-overview.json'];
    const values = await variableValues(dash);
    const board = dash.panels!.find((p) => p.title === 'Leaderboard')!;
    assert.ok('targets' in board);
    const expr = substitute(String(board.targets![0].expr), values);
    // While the search still served /metrics (--metrics-linger 3).
    const rows = await prom!.query(expr, localEnd - 2);
    assert.ok(rows.length > 0 && rows.length <= Number(values.top), `${rows.length} rows`);
    for (const r of rows) {
      assert.match(r.metric.arch, /^(mlp|cnn)$/);
      assert.match(r.metric.optimizer, /^(sgd|adam)$/);
      assert.match(r.metric.batch_size, /^(32|64)$/);
      assert.ok(Number(r.metric.learning_rate) > 0, JSON.stringify(r.metric));
      assert.ok(r.values[0][1] > 0 && r.values[0][1] <= 1, 'val_acc');
    }
  });
});
