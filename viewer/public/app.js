// The page: picks an experiment (URL hash #exp=NAME, else the newest), draws every panel from the JSON
// API and redraws when the server says the database changed (server-sent events). The body's
// data-ready and data-seq attributes say when the first render and the latest update are on screen.
import { exp, getJson, listen } from './api.js';
import { drawCurves, drawHistory, drawImportance, drawParallel } from './charts.js';
import {
  renderDetail,
  renderExperiments,
  renderPager,
  renderSeedTable,
  renderStateFilter,
  renderSummary,
  renderTrials,
  renderWorkers,
} from './tables.js';

const $ = (id) => document.getElementById(id);
const SLOW_PANELS_MS = 3000;

const view = {
  experiment: null,
  summary: null,
  sort: 'value',
  order: null,
  state: '',
  offset: 0,
  limit: 50,
  chosen: new Set(),
  firstRows: [],
  metric: null,
  detail: null,
  slowAt: 0,
  finished: -1,
};

function fromHash() {
  const m = /exp=([^&]+)/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

async function loadExperiments() {
  const answer = await getJson('/api/experiments');
  const list = answer ? answer.experiments : [];
  const select = $('experiment-select');
  const wanted = view.experiment ?? fromHash() ?? list[0]?.name ?? null;
  view.experiment = list.some((e) => e.name === wanted) ? wanted : (list[0]?.name ?? null);
  select.replaceChildren(
    ...list.map((e) => {
      const o = document.createElement('option');
      o.value = e.name;
      o.textContent = e.name;
      o.selected = e.name === view.experiment;
      return o;
    }),
  );
  renderExperiments($('experiments-table'), list, view.experiment, pick);
}

function pick(name) {
  if (name === view.experiment) return;
  Object.assign(view, {
    experiment: name,
    sort: 'value',
    order: null,
    state: '',
    offset: 0,
    detail: null,
    metric: null,
    slowAt: 0,
  });
  view.chosen.clear();
  location.hash = `exp=${encodeURIComponent(name)}`;
  refresh(true);
}

function trialsQuery() {
  const q = new URLSearchParams({ sort: view.sort, offset: String(view.offset), limit: String(view.limit) });
  if (view.order) q.set('order', view.order);
  if (view.state) q.set('state', view.state);
  return q.toString();
}

async function loadTrials() {
  const s = view.summary;
  const page = await getJson(`${exp(view.experiment)}/trials?${trialsQuery()}`);
  if (!page) return;
  view.firstRows = page.rows.slice(0, 5).map((t) => t.trial_id);
  renderTrials($('trials-table'), page, s, view, {
    sort: (key) => {
      if (view.sort === key) view.order = (view.order ?? page.order) === 'desc' ? 'asc' : 'desc';
      else Object.assign(view, { sort: key, order: null });
      view.offset = 0;
      loadTrials().then(loadCurves);
    },
    choose: (id, on) => {
      if (on) view.chosen.add(id);
      else view.chosen.delete(id);
      loadCurves();
    },
    detail: (id) => {
      view.detail = id;
      for (const tr of document.querySelectorAll('#trials-table tr.selected'))
        tr.classList.remove('selected');
      document.querySelector(`#trials-table tr[data-trial="${CSS.escape(id)}"]`)?.classList.add('selected');
      loadDetail();
    },
  });
  renderPager($('pager'), page, (offset) => {
    view.offset = offset;
    loadTrials().then(loadCurves);
  });
  renderStateFilter($('state-filter'), s, view.state, (st) => {
    Object.assign(view, { state: st, offset: 0 });
    loadTrials().then(loadCurves);
  });
}

async function loadCurves() {
  const ids = view.chosen.size > 0 ? [...view.chosen] : view.firstRows;
  const select = $('curve-metric');
  const metrics = view.summary.epoch_metrics.length ? view.summary.epoch_metrics : [view.summary.metric];
  if (!view.metric || !metrics.includes(view.metric))
    view.metric = metrics.includes(view.summary.metric) ? view.summary.metric : metrics[0];
  select.replaceChildren(
    ...metrics.map((m) => {
      const o = document.createElement('option');
      o.value = m;
      o.textContent = m;
      o.selected = m === view.metric;
      return o;
    }),
  );
  const q = new URLSearchParams({ trials: ids.join(','), metric: view.metric });
  drawCurves(await getJson(`${exp(view.experiment)}/curves?${q}`));
}

async function loadDetail() {
  if (!view.detail) return renderDetail($('trial-detail'), null);
  const d = await getJson(`${exp(view.experiment)}/trials/${encodeURIComponent(view.detail)}`);
  renderDetail($('trial-detail'), d, view.summary.metric);
}

async function loadSlowPanels() {
  view.slowAt = Date.now();
  const base = exp(view.experiment);
  const [parallel, importance] = await Promise.all([
    getJson(`${base}/parallel`),
    getJson(`${base}/importance`),
  ]);
  drawParallel(parallel);
  drawImportance(importance);
  $('seed-box').hidden = !view.summary.seed_table;
  if (view.summary.seed_table) {
    const seed = await getJson(`${base}/seed-table`);
    if (seed) renderSeedTable($('seed-table'), seed.rows);
  }
}

async function loadWorkers() {
  const answer = await getJson('/api/workers');
  const available = Boolean(answer && answer.available);
  $('workers').hidden = !available;
  if (available) renderWorkers($('workers-table'), answer);
  return available;
}

let running = null;
let again = false;
let force = false;

/** Redraws everything (slow panels at most every few seconds unless `all`); overlapping calls coalesce. */
function refresh(all = false, seq) {
  force = force || all;
  if (running) {
    again = true;
    return running;
  }
  const doAll = force;
  force = false;
  running = (async () => {
    await loadExperiments();
    $('experiment').hidden = !view.experiment;
    if (view.experiment) {
      const s = await getJson(exp(view.experiment));
      if (s) {
        view.summary = s;
        renderSummary(s, {
          title: $('experiment-title'),
          meta: $('experiment-meta'),
          cards: $('state-cards'),
          stopped: $('stopped-table'),
          errors: $('errors-table'),
        });
        $('stopped-box').hidden = s.stopped_at.length === 0;
        $('errors-box').hidden = s.errors.length === 0;
        // Panels over finished trials change only when a trial finishes: an epoch redraws the cheap ones.
        const finished = s.trials.completed + s.trials.stopped + s.trials.failed;
        const newFinish = finished !== view.finished;
        view.finished = finished;
        const slow = doAll || (newFinish && Date.now() - view.slowAt >= SLOW_PANELS_MS);
        await Promise.all([
          doAll || newFinish
            ? getJson(`${exp(view.experiment)}/history`).then((h) => drawHistory(h, s.metric))
            : null,
          loadTrials().then(loadCurves),
          loadDetail(),
          slow ? loadSlowPanels() : null,
        ]);
      }
    }
    if (seq !== undefined) document.body.dataset.seq = String(seq);
  })()
    .catch((err) => console.warn('dashboard refresh failed:', err.message))
    .finally(() => {
      running = null;
      if (again) {
        again = false;
        refresh(false, lastSeq);
      }
    });
  return running;
}

let lastSeq = 0;
$('experiment-select').addEventListener('change', (e) => pick(e.target.value));
$('curve-metric').addEventListener('change', (e) => {
  view.metric = e.target.value;
  loadCurves();
});
listen((event) => {
  lastSeq = event.seq;
  refresh(false, lastSeq);
}, $('live'));
refresh(true, 0).then(async () => {
  document.body.dataset.ready = '1';
  if (await loadWorkers()) setInterval(loadWorkers, 5000);
});
