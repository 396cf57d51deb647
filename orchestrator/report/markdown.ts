/** The report as Markdown: leaderboard, the seed report's table, plots (as image links), hardware and data. */
import { displayNumber } from '../../shared/number-format.js';
import { hpoVersion } from '../core/run-info.js';
import { bestSoFar } from './best-so-far.js';
import { type ReportData, trialLabel } from './collect.js';
import type { Reference } from './reference.js';
import { formatPair, formatPercentPair, type TableRow } from './seed-table.js';
import { MNIST_TASK } from '../../shared/task-names.js';

/** A plot file (relative to the report) with its caption. */
export interface PlotRef {
  file: string;
  caption: string;
}

export interface ReportPlots {
  curves: PlotRef[];
  params: PlotRef[];
  /** Best so far against wall time (null: no finished trial). */
  bestSoFar?: PlotRef | null;
}

function cell(v: unknown): string {
  return String(v ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
}

export function markdownTable(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const line = (cells: readonly unknown[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Numbers round for display only, to 6 significant digits (report.md and report.html are for reading). */
const num = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '-' : displayNumber(x);

const showParam = (v: unknown) => (typeof v === 'number' ? displayNumber(v) : String(v ?? ''));

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.round(s / 60)} min` : `${s} s`;
}

function experimentsSection(data: ReportData): string {
  const rows = data.experiments.map(({ record }) => {
    const ts = data.trials.filter((t) => t.experiment === record.name);
    const count = (s: string) => ts.filter((t) => t.state === s).length;
    const started = ts.map((t) => t.started_at).filter((x): x is number => x !== null);
    const ended = ts.map((t) => t.ended_at).filter((x): x is number => x !== null);
    const wall = started.length && ended.length ? duration(Math.max(...ended) - Math.min(...started)) : '-';
    return [
      record.name,
      record.status,
      record.space.method,
      `${ts.length} (${count('completed')} completed, ${count('stopped')} stopped, ${count('failed')} failed, ${count('running') + count('queued') + count('pending')} unfinished)`,
      wall,
      record.space.description ?? '',
    ];
  });
  return markdownTable(['experiment', 'status', 'method', 'trials', 'wall time', 'description'], rows);
}

function leaderboardSection(data: ReportData): string {
  const multi = data.experiments.length > 1;
  // Columns of metrics only some tasks report (the MNIST task's per-digit accuracies) appear only when
  // a trial has them.
  const has = (...keys: string[]) =>
    data.leaderboard.some((t) => keys.every((k) => typeof t.metrics?.[k] === 'number'));
  const train = has('train_acc_top', 'train_acc_bottom');
  const test = has('test_acc_top', 'test_acc_bottom');
  const testAcc = has('test_acc');
  const backend = data.leaderboard.some((t) => t.backend);
  const seconds = has('seconds');
  const head = [
    'rank',
    ...(multi ? ['experiment'] : []),
    'trial',
    data.metric.name,
    ...data.searched,
    'epochs',
    ...(train ? ['train (top, bottom)'] : []),
    ...(test ? ['test (top, bottom)'] : []),
    ...(testAcc ? ['test_acc'] : []),
    ...(backend ? ['backend'] : []),
    ...(seconds ? ['seconds'] : []),
  ];
  const rows = data.leaderboard.map((t, i) => [
    i + 1,
    ...(multi ? [t.experiment] : []),
    t.trial_id,
    num(t.value),
    ...data.searched.map((p) => showParam(t.params[p])),
    t.epochs,
    ...(train ? [formatPair(pairOf(t.metrics, 'train_acc_top', 'train_acc_bottom'))] : []),
    ...(test ? [formatPair(pairOf(t.metrics, 'test_acc_top', 'test_acc_bottom'))] : []),
    ...(testAcc ? [num(t.metrics?.test_acc)] : []),
    ...(backend ? [t.backend ?? '-'] : []),
    ...(seconds ? [typeof t.metrics?.seconds === 'number' ? t.metrics.seconds.toFixed(0) : '-'] : []),
  ]);
  return markdownTable(head, rows);
}

/** The trials that raised the best, with the minute they ended: the search's progress in a table. */
function progressSection(data: ReportData, plot: PlotRef | null | undefined): string {
  const multi = data.experiments.length > 1;
  const points = bestSoFar(data);
  if (points.length === 0) return 'No trial finished with a value.';
  const rows = points
    .filter((p) => p.improved)
    .map((p) => [
      p.minutes.toFixed(1),
      trialLabel(p.trial, data.searched, multi),
      p.trial.state,
      p.trial.epochs,
      num(p.value),
    ]);
  const last = points[points.length - 1];
  return [
    ...(plot ? [`![${plot.caption}](${plot.file})`] : []),
    `The trials that raised the best ${data.metric.name}, with the wall-clock minute they ended ` +
      `(from the experiment's first start; ${points.length} finished trials, the last at minute ` +
      `${last.minutes.toFixed(1)}):`,
    markdownTable(['minute', 'trial', 'state', 'epochs', data.metric.name], rows),
  ].join('\n\n');
}

function pairOf(m: Record<string, number> | null, a: string, b: string): [number, number] | null {
  return typeof m?.[a] === 'number' && typeof m?.[b] === 'number' ? [m[a], m[b]] : null;
}

function tableSection(rows: readonly TableRow[], reference: Reference, multi: boolean): string {
  const head = [
    'arch',
    'optimizer',
    'lr',
    'batch',
    'epochs',
    'trial',
    'val_acc',
    'train (top, bottom)',
    'test (top, bottom)',
    'report: epochs, batch',
    'report train',
    'report test',
  ];
  const body: unknown[][] = [];
  for (const r of rows) {
    const base = [
      r.arch,
      r.optimizer,
      showParam(r.learning_rate),
      r.batch_size,
      r.epochs,
      `${multi ? `${r.experiment}/` : ''}${r.trial_id}${r.trials > 1 ? ` (best of ${r.trials})` : ''}`,
      num(r.value),
      formatPair(r.train),
      formatPair(r.test),
    ];
    if (r.reference.length === 0) body.push([...base, '-', '-', '-']);
    for (const ref of r.reference) {
      body.push([
        ...base,
        `${ref.epochs}, ${ref.batch_size ?? 'unstated'}`,
        formatPercentPair(ref.train),
        formatPercentPair(ref.test),
      ]);
    }
  }
  const matched = new Set(rows.flatMap((r) => r.reference));
  const unmatched = reference.rows.filter((r) => !matched.has(r));
  let text = markdownTable(head, body);
  if (unmatched.length > 0) {
    text +=
      '\n\nReport rows with no matching configuration in this run:\n\n' +
      markdownTable(
        ['arch', 'optimizer', 'lr', 'batch', 'epochs', 'report train', 'report test'],
        unmatched.map((r) => [
          r.arch,
          r.optimizer,
          showParam(r.learning_rate),
          r.batch_size ?? 'unstated',
          r.epochs,
          formatPercentPair(r.train),
          formatPercentPair(r.test),
        ]),
      );
  }
  text += `\n\nReference numbers: ${reference.source}. ${reference.notes.join(' ')}`;
  return text;
}

function hardwareSection(data: ReportData): string {
  const rows = data.experiments.flatMap(({ record, runs }) =>
    runs.map((r) => [
      record.name,
      iso(r.started_at),
      `${r.host.cpu_model} x ${r.host.cores}`,
      gib(r.host.memory_bytes),
      `${r.host.os} (${r.host.arch})`,
      `node ${r.node_version}, tfjs ${r.tfjs_version}, hpo ${r.hpo_version}`,
      r.backend_choice,
      r.workers,
      r.load_average?.join(', ') ?? '-',
      r.data ? `seed ${r.data.seed}, sha256 ${r.data.sha256}` : '-',
    ]),
  );
  const backends = Object.entries(data.backends)
    .map(([b, n]) => `${b} (${n} trial${n === 1 ? '' : 's'})`)
    .join(', ');
  const table =
    rows.length > 0
      ? markdownTable(
          [
            'experiment',
            'run started',
            'CPU',
            'memory',
            'OS',
            'versions',
            '--backend',
            'workers',
            'load avg at start',
            'data set',
          ],
          rows,
        )
      : 'No run metadata was recorded (the experiments were run by an hpo older than schema version 2).';
  return `${table}\n\nBackends the trials ran on: ${backends || '-'}.`;
}

function modelsSection(data: ReportData): string {
  const rows = data.experiments.flatMap(({ record, models }) =>
    models.map((m) => [record.name, m.trial_id, m.path, m.worker ?? 'this machine', iso(m.saved_at)]),
  );
  if (rows.length === 0) return 'No models were saved (`hpo search --save-models all|top:K`).';
  return markdownTable(['experiment', 'trial', 'path', 'worker', 'saved'], rows);
}

/** `table` is the seed report's table (MNIST task), or null for other tasks: then no such section. */
export function renderMarkdown(
  data: ReportData,
  table: readonly TableRow[] | null,
  reference: Reference,
  plots: ReportPlots,
): string {
  const names = data.experiments.map((e) => e.record.name).join(', ');
  const img = (p: PlotRef) => `![${p.caption}](${p.file})`;
  return [
    `# hpo report: ${names}`,
    `Generated by hpo ${hpoVersion()} on ${iso(data.generatedAt)}. Task \`${data.task}\`; objective ` +
      `\`${data.metric.name}\` (${data.metric.goal}) on the validation split. Test accuracy is shown for the ` +
      'record and never used to rank, select or stop anything.',
    '## Experiments',
    experimentsSection(data),
    `## Leaderboard\n\nRanked by ${data.metric.name} on validation; numbers rounded for reading ` +
      '(`hpo leaderboard --format csv` or `json` gives every digit).' +
      (data.task === MNIST_TASK
        ? " Train accuracy is the last epoch's running accuracy over the training pairs; test accuracy is on the whole test split."
        : ''),
    leaderboardSection(data),
    ...(table
      ? [
          "## The report's table\n\nOne row per architecture, optimizer, learning rate and batch size (the trial " +
            `with the best ${data.metric.name} when several share it), accuracy as (top %, bottom %), beside the ` +
            "seed report's numbers where its configuration matches.",
          tableSection(table, reference, data.experiments.length > 1),
        ]
      : []),
    `## Best so far over wall time`,
    progressSection(data, plots.bestSoFar),
    ...(plots.curves.length > 0
      ? ['## Learning curves\n\nPer trial, per epoch.', plots.curves.map(img).join('\n\n')]
      : []),
    `## Parameters against ${data.metric.name}\n\nOne point per finished trial, for each searched parameter.`,
    plots.params.length > 0 ? plots.params.map(img).join('\n\n') : 'No parameter took more than one value.',
    '## Hardware, backend and data',
    hardwareSection(data),
    '## Saved models',
    modelsSection(data),
    '',
  ].join('\n\n');
}
