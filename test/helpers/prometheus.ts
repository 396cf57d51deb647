/**
 * A real Prometheus for tests: `prometheus` on a free loopback port, its config generated into a temp
 * folder (scrape interval 1 s unless told), TSDB in the same folder; stop() stops it and deletes the
 * folder. Queries go through the HTTP API (/api/v1/query, /api/v1/query_range) and throw on a PromQL
 * error with the expression in the message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { exited, freePort } from '../../bench/nats-server.js';
import { findExecutable } from '../../cli/find-executable.js';

export interface ScrapeJob {
  job: string;
  /** host:port of each /metrics endpoint. */
  targets: string[];
}

export interface PrometheusOptions {
  jobs: ScrapeJob[];
  /** Default 1s. */
  scrapeInterval?: string;
}

/** One series of a query answer: its labels and its samples as [unix seconds, value]. */
export interface PromSeries {
  metric: Record<string, string>;
  values: Array<[number, number]>;
}

export interface PrometheusTarget {
  job: string;
  url: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface PrometheusHandle {
  url: string;
  port: number;
  /** Instant query. */
  query(expr: string, time?: number): Promise<PromSeries[]>;
  /** Range query over [start, end] (unix seconds). */
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromSeries[]>;
  /** Values of a label among the series matching `match` (what Grafana's label_values() asks). */
  labelValues(label: string, match: string): Promise<string[]>;
  targets(): Promise<PrometheusTarget[]>;
  stop(): Promise<void>;
}

export function findPrometheus(): string {
  const bin = findExecutable('prometheus');
  if (!bin) throw new Error('prometheus not found: install it (Debian: apt-get install -y prometheus)');
  return bin;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

type QueryData =
  | {
      resultType: 'matrix';
      result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
    }
  | { resultType: 'vector'; result: Array<{ metric: Record<string, string>; value: [number, string] }> }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusHandle> {
  const bin = findPrometheus();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hpo-prometheus-'));
  const config = {
    global: { scrape_interval: options.scrapeInterval ?? '1s', evaluation_interval: '1s' },
    scrape_configs: options.jobs.map((j) => ({
      job_name: j.job,
      static_configs: [{ targets: j.targets }],
    })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  let output = '';
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const done = exited(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`prometheus exited with code ${child.exitCode}:\n${output}`);
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus did not become ready within 30 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as ApiAnswer<T>;
    if (body.status !== 'success') {
      throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    }
    return body.data;
  };
  const toSeries = (data: QueryData): PromSeries[] => {
    if (data.resultType === 'matrix') {
      return data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, Number(v)]) }));
    }
    if (data.resultType === 'vector') {
      return data.result.map((r) => ({ metric: r.metric, values: [[r.value[0], Number(r.value[1])]] }));
    }
    return [{ metric: {}, values: [[data.result[0], Number(data.result[1])]] }];
  };

  return {
    url,
    port,
    async query(expr, time) {
      const params: Record<string, string> = { query: expr };
      if (time !== undefined) params.time = String(time);
      return toSeries(await api<QueryData>('/api/v1/query', params));
    },
    async queryRange(expr, start, end, step) {
      return toSeries(
        await api<QueryData>('/api/v1/query_range', {
          query: expr,
          start: String(start),
          end: String(end),
          step: String(step),
        }),
      );
    },
    async labelValues(label, match) {
      return api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match });
    },
    async targets() {
      const data = await api<{
        activeTargets: Array<{
          labels: Record<string, string>;
          scrapeUrl: string;
          health: string;
          lastError: string;
        }>;
      }>('/api/v1/targets', { state: 'active' });
      return data.activeTargets.map((t) => ({
        job: t.labels.job,
        url: t.scrapeUrl,
        health: t.health as PrometheusTarget['health'],
        lastError: t.lastError,
      }));
    },
    stop,
  };
}
