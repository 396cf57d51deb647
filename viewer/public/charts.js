// The ECharts panels: best so far, parameter importance, learning curves, parallel coordinates.
// Tooltips are built from escaped text only.
import { escapeHtml, full, num } from './format.js';

const charts = new Map();

function chart(id) {
  let c = charts.get(id);
  if (!c) {
    c = echarts.init(document.getElementById(id), null, { renderer: 'canvas' });
    charts.set(id, c);
    window.addEventListener('resize', () => c.resize());
  }
  return c;
}

function empty(id, text) {
  chart(id).setOption(
    {
      title: {
        text,
        left: 'center',
        top: 'middle',
        textStyle: { color: '#8a93a3', fontSize: 13, fontWeight: 'normal' },
      },
      xAxis: [],
      yAxis: [],
      series: [],
    },
    true,
  );
}

export function drawHistory(h, metric) {
  if (!h || h.total === 0) return empty('history-chart', 'no finished trial yet');
  chart('history-chart').setOption(
    {
      animation: false,
      grid: { left: 60, right: 20, top: 30, bottom: 40 },
      legend: { top: 0 },
      tooltip: {
        trigger: 'item',
        formatter: (p) =>
          `${escapeHtml(p.seriesName)}<br>#${p.value[0]} ${escapeHtml(p.value[2])}: ${escapeHtml(num(p.value[1]))}`,
      },
      xAxis: { type: 'value', name: 'trials finished', nameLocation: 'middle', nameGap: 25, min: 1 },
      yAxis: { type: 'value', name: metric, scale: true },
      series: [
        { name: 'trial', type: 'scatter', symbolSize: 5, data: h.points, itemStyle: { color: '#9bb4d9' } },
        {
          name: `best (${h.goal})`,
          type: 'line',
          step: 'end',
          symbol: 'none',
          data: h.best,
          lineStyle: { width: 2, color: '#1e5bb8' },
        },
      ],
    },
    true,
  );
}

export function drawImportance(imp) {
  const note = document.getElementById('importance-method');
  if (!imp) return empty('importance-chart', 'no importance');
  note.textContent = `${imp.method}; ${imp.used} of ${imp.trials} finished trials used.${imp.note ? ` ${imp.note}.` : ''}`;
  if (imp.used === 0) return empty('importance-chart', imp.note ?? 'not enough finished trials');
  const params = [...imp.params].reverse();
  chart('importance-chart').setOption(
    {
      animation: false,
      grid: { left: 110, right: 30, top: 10, bottom: 30 },
      tooltip: { trigger: 'item', formatter: (p) => `${escapeHtml(p.name)}: ${(p.value * 100).toFixed(1)}%` },
      xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
      yAxis: { type: 'category', data: params.map((p) => p.name) },
      series: [{ type: 'bar', data: params.map((p) => p.share), itemStyle: { color: '#1e5bb8' } }],
    },
    true,
  );
}

export function drawCurves(c) {
  if (!c || c.trials.length === 0 || c.trials.every((t) => t.points.length === 0)) {
    return empty('curves-chart', 'no epochs recorded for the chosen trials');
  }
  chart('curves-chart').setOption(
    {
      animation: false,
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      legend: { top: 0, type: 'scroll' },
      tooltip: { trigger: 'axis', valueFormatter: (v) => escapeHtml(num(v)) },
      xAxis: {
        type: 'value',
        name: 'epoch',
        nameLocation: 'middle',
        nameGap: 25,
        minInterval: 1,
        min: 'dataMin',
      },
      yAxis: { type: 'value', name: c.metric, scale: true },
      series: c.trials.map((t) => ({
        name: `#${t.index} ${t.trial_id}`,
        type: 'line',
        showSymbol: t.points.length < 30,
        connectNulls: false,
        data: t.points,
      })),
    },
    true,
  );
}

export function drawParallel(p) {
  const note = document.getElementById('parallel-note');
  if (!p || p.rows.length === 0 || p.params.length === 0) {
    note.textContent = '';
    return empty(
      'parallel-chart',
      p && p.params.length === 0 ? 'no searched parameter' : 'no finished trial yet',
    );
  }
  note.textContent = `The ${p.rows.length} best finished trial(s)${p.total > p.rows.length ? ` of ${p.total}` : ''}, coloured by ${p.metric} (${p.goal}).`;
  const dims = p.params.map((param, i) => {
    const spec = param.spec;
    if (spec.kind === 'categorical')
      return { dim: i, name: param.name, type: 'category', data: spec.values.map(String) };
    const log = spec.kind === 'log_uniform_values' || spec.kind === 'q_log_uniform_values';
    return { dim: i, name: param.name, type: log ? 'log' : 'value', scale: true };
  });
  dims.push({ dim: dims.length, name: p.metric, type: 'value', scale: true });
  const values = p.rows.map((r) => r.value);
  const data = p.rows.map((r) => ({
    name: r.trial_id,
    value: [
      ...p.params.map((param) =>
        param.spec.kind === 'categorical' ? String(r.params[param.name]) : r.params[param.name],
      ),
      r.value,
    ],
  }));
  chart('parallel-chart').setOption(
    {
      animation: false,
      parallel: { left: 60, right: 150, top: 40, bottom: 30 },
      parallelAxis: dims,
      visualMap: {
        type: 'continuous',
        dimension: dims.length - 1,
        min: Math.min(...values),
        max: Math.max(...values),
        inRange: { color: p.goal === 'maximize' ? ['#d0d7e2', '#1e5bb8'] : ['#1e5bb8', '#d0d7e2'] },
        right: 0,
        top: 'middle',
        calculable: true,
        text: [p.metric, ''],
        formatter: (v) => num(v),
      },
      tooltip: {
        trigger: 'item',
        formatter: (d) =>
          `${escapeHtml(d.name)}<br>${p.params.map((param, i) => `${escapeHtml(param.name)}=${escapeHtml(full(d.value[i]))}`).join('<br>')}<br>${escapeHtml(p.metric)}=${escapeHtml(num(d.value[d.value.length - 1]))}`,
      },
      series: [{ type: 'parallel', lineStyle: { width: 1, opacity: 0.6 }, data }],
    },
    true,
  );
}
