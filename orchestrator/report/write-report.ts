/** `hpo report`: collects the experiments, renders the plots and writes report.md, report.html and plots/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bestSoFarSpec, learningCurveSpec, paramObjectiveSpec, renderSvg } from '../plots/index.js';
import type { StoreReader } from '../store/types.js';
import { bestSoFar } from './best-so-far.js';
import { collectReport, type ReportData, trialLabel } from './collect.js';
import { renderHtml } from './html.js';
import { type PlotRef, renderMarkdown, type ReportPlots } from './markdown.js';
import { type Reference, SEED_REPORT_REFERENCE } from './reference.js';
import { buildReportTable } from './seed-table.js';
import type { ParamValue } from '../../shared/protocol/index.js';
import { MNIST_TASK } from '../../shared/task-names.js';

export interface WriteReportOptions {
  reference?: Reference;
  now?: number;
}

export interface WrittenReport {
  markdown: string;
  html: string;
  plots: string[];
  data: ReportData;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '-');
}

/** Learning-curve panels beyond this many trials are left out (the best finished trials are kept first). */
export const MAX_CURVE_PANELS = 60;

async function renderPlots(data: ReportData): Promise<{ plots: ReportPlots; svgs: Map<string, string> }> {
  const svgs = new Map<string, string>();
  const multi = data.experiments.length > 1;
  const ranked = new Set(data.leaderboard);
  const withEpochs = [...data.leaderboard, ...data.trials.filter((t) => !ranked.has(t))].filter(
    (t) => t.epochList.length > 0,
  );
  const curveTrials = withEpochs.slice(0, MAX_CURVE_PANELS).map((t) => ({
    label: trialLabel(t, data.searched, multi),
    epochs: t.epochList,
  }));
  const cut =
    withEpochs.length > MAX_CURVE_PANELS
      ? ` (the ${MAX_CURVE_PANELS} best of ${withEpochs.length} trials)`
      : '';
  const curves: PlotRef[] = [];
  for (const kind of ['loss', 'accuracy'] as const) {
    // No plot when no trial reported a series of this kind (e.g. a task with no loss).
    const spec = learningCurveSpec(curveTrials, kind, 4, data.metric.name);
    if (!spec) continue;
    const file = `plots/learning-curves-${kind}.svg`;
    svgs.set(file, await renderSvg(spec));
    curves.push({
      file,
      caption: `${kind === 'loss' ? 'Loss' : 'Accuracy'} per epoch, one panel per trial${cut}`,
    });
  }
  const params: PlotRef[] = [];
  // Colour by architecture only where trials have one (the MNIST task), never an empty legend.
  const byArch = data.leaderboard.some((t) => typeof t.params.arch === 'string');
  for (const param of data.searched) {
    const points = data.leaderboard
      .filter((t) => t.params[param] !== undefined)
      .map((t) => ({
        value: scalarOf(t.params[param]),
        objective: t.value!,
        ...(byArch && param !== 'arch' ? { group: String(t.params.arch ?? '') } : {}),
      }));
    if (points.length === 0) continue;
    const file = `plots/param-${safeName(param)}.svg`;
    svgs.set(file, await renderSvg(paramObjectiveSpec(param, data.metric.name, points)));
    params.push({ file, caption: `${data.metric.name} by ${param}` });
  }
  let progress: PlotRef | null = null;
  const timeline = bestSoFar(data);
  if (timeline.length > 0) {
    const file = 'plots/best-so-far.svg';
    const points = timeline.map((p) => ({
      experiment: p.experiment,
      trial: multi ? `${p.experiment}/${p.trial.trial_id}` : p.trial.trial_id,
      minutes: Math.round(p.minutes * 100) / 100,
      value: p.value,
      best: p.best,
    }));
    svgs.set(file, await renderSvg(bestSoFarSpec(data.metric.name, points)));
    progress = {
      file,
      caption: `Best ${data.metric.name} so far against wall time; a point per finished trial`,
    };
  }
  return { plots: { curves, params, bestSoFar: progress }, svgs };
}

/** Architectures in the order the (first) search file lists them. */
function archOrder(data: ReportData): string[] {
  const order: string[] = [];
  for (const { record } of data.experiments) {
    const spec = record.space.parameters.arch;
    const values = spec?.kind === 'categorical' ? spec.values : spec?.kind === 'constant' ? [spec.value] : [];
    for (const v of values) if (typeof v === 'string' && !order.includes(v)) order.push(v);
  }
  return order;
}

export async function writeReport(
  store: StoreReader,
  names: readonly string[],
  outDir: string,
  options: WriteReportOptions = {},
): Promise<WrittenReport> {
  const reference = options.reference ?? SEED_REPORT_REFERENCE;
  const data = await collectReport(store, names, options.now);
  // The seed report's table compares MNIST results: no such section for any other task.
  const table =
    data.task === MNIST_TASK
      ? buildReportTable(data.leaderboard, reference.rows, {
          goal: data.metric.goal,
          archOrder: archOrder(data),
        })
      : null;
  const { plots, svgs } = await renderPlots(data);
  const md = renderMarkdown(data, table, reference, plots);
  const html = renderHtml(md, `hpo report: ${names.join(', ')}`, svgs);
  mkdirSync(join(outDir, 'plots'), { recursive: true });
  const written: string[] = [];
  for (const [file, svg] of svgs) {
    writeFileSync(join(outDir, file), svg);
    written.push(join(outDir, file));
  }
  const markdown = join(outDir, 'report.md');
  const htmlFile = join(outDir, 'report.html');
  writeFileSync(markdown, md);
  writeFileSync(htmlFile, html);
  return { markdown, html: htmlFile, plots: written, data };
}

/** A parameter value for a plot axis: lists, mappings and null as their JSON text. */
function scalarOf(v: ParamValue | undefined): string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? v
    : JSON.stringify(v ?? null);
}
