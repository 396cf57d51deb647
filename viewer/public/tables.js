// Tables of the page: experiments, state cards, stopped-at and failures, the trial list, trial detail,
// workers and (MNIST only) the seed report's table.
import { duration, el, fillTable, full, num, rowOf, when } from './format.js';

const STATE_LABEL = {
  pending: 'pending',
  queued: 'queued',
  running: 'running',
  completed: 'completed',
  stopped: 'stopped',
  failed: 'failed',
};

export function renderExperiments(table, list, current, onPick) {
  const rows = list.map((e) => {
    const tr = rowOf([
      e.name,
      e.status,
      e.task,
      e.method,
      `${e.goal} ${e.metric}`,
      e.trials.total,
      e.trials.running,
      e.trials.completed,
      e.trials.stopped,
      e.trials.failed,
      when(e.created_at),
    ]);
    tr.className = `clickable${e.name === current ? ' selected' : ''}`;
    tr.addEventListener('click', () => onPick(e.name));
    return tr;
  });
  fillTable(
    table,
    [
      'name',
      'status',
      'task',
      'method',
      'objective',
      'trials',
      'running',
      'completed',
      'stopped',
      'failed',
      'created',
    ],
    rows,
  );
}

export function renderSummary(s, nodes) {
  nodes.title.textContent = s.name;
  const parts = [`${s.method} search`, `task ${s.task}`, `${s.goal} ${s.metric}`, `status ${s.status}`];
  if (s.description) parts.push(s.description);
  const constants = Object.entries(s.constants).map(([k, v]) => `${k}=${full(v)}`);
  if (constants.length) parts.push(`fixed: ${constants.join(', ')}`);
  nodes.meta.textContent = parts.join(' · ');
  const cards = [
    ['pending', s.trials.pending, 'state-pending'],
    ['queued', s.trials.queued ?? 0, 'state-queued'],
    ['running', s.trials.running, 'state-running'],
    ['completed', s.trials.completed, 'state-completed'],
    ['stopped', s.trials.stopped, 'state-stopped'],
    ['failed', s.trials.failed, 'state-failed'],
    ['total', s.trials.total, 'state-total'],
    ['epochs recorded', s.epoch_rows, 'epoch-rows'],
    [`best ${s.metric}`, s.best ? num(s.best.value) : '–', 'best-value'],
  ];
  nodes.cards.replaceChildren(
    ...cards.map(([label, n, id]) => {
      const c = el('div', null, { class: 'card', id });
      c.append(el('div', n, { class: 'n' }), el('div', label, { class: 'label' }));
      return c;
    }),
  );
  fillTable(
    nodes.stopped,
    s.hyperband ? ['epochs run', 'rung reached', 'trials'] : ['epochs run', 'trials'],
    s.stopped_at.map((g) =>
      s.hyperband ? [g.epochs, g.rung === null ? 'below the first' : g.rung, g.trials] : [g.epochs, g.trials],
    ),
  );
  fillTable(
    nodes.errors,
    ['trials', 'error', 'e.g.'],
    s.errors.map((e) => rowOf([e.trials, el('td', e.error, { class: 'error' }), e.trial_id])),
  );
}

/** The trial list: sortable headers (server-side sort), a curve tick box per row, click for detail. */
export function renderTrials(table, page, s, view, handlers) {
  const head = [];
  const sortable = (label, key) => {
    const th = el('th', label, { class: `sortable${view.sort === key ? ' sorted' : ''}`, 'data-sort': key });
    if (view.sort === key) th.textContent += page.order === 'desc' ? ' ▼' : ' ▲';
    th.addEventListener('click', () => handlers.sort(key));
    head.push(th);
  };
  head.push(el('th', 'curve'));
  sortable('#', 'index');
  head.push(el('th', 'trial'));
  sortable('state', 'state');
  sortable(s.metric, 'value');
  for (const p of s.params) sortable(p.name, `param:${p.name}`);
  sortable('epochs', 'epochs');
  if (s.hyperband) head.push(el('th', 'rung'));
  sortable('worker', 'worker');
  sortable('started', 'started_at');
  head.push(el('th', 'duration'));
  head.push(el('th', 'error'));
  const rows = page.rows.map((t) => {
    const tick = el('input', null, { type: 'checkbox' });
    tick.checked = view.chosen.has(t.trial_id);
    tick.addEventListener('click', (ev) => {
      ev.stopPropagation();
      handlers.choose(t.trial_id, tick.checked);
    });
    const tickCell = el('td');
    tickCell.append(tick);
    const cells = [
      tickCell,
      t.index,
      t.trial_id,
      el('td', STATE_LABEL[t.state] ?? t.state, { class: `state-${t.state}` }),
      t.value === null ? '' : t.value,
      ...s.params.map((p) => el('td', full(t.params[p.name]), { class: 'num' })),
      t.epochs,
    ];
    if (s.hyperband) cells.push(t.rung === null || t.rung === undefined ? '' : String(t.rung));
    cells.push(
      t.worker ?? '',
      when(t.started_at),
      t.started_at && t.ended_at ? duration(t.ended_at - t.started_at) : '',
    );
    cells.push(el('td', t.error ? t.error.slice(0, 80) : '', { class: 'error', title: t.error ?? '' }));
    const tr = rowOf(cells);
    tr.className = `clickable${view.detail === t.trial_id ? ' selected' : ''}`;
    tr.dataset.trial = t.trial_id;
    tr.addEventListener('click', () => handlers.detail(t.trial_id));
    return tr;
  });
  fillTable(table, head, rows);
}

export function renderPager(node, page, onOffset) {
  node.replaceChildren();
  const last = Math.max(0, Math.ceil(page.total / page.limit) - 1);
  const at = Math.floor(page.offset / page.limit);
  const button = (label, target, disabled) => {
    const b = el('button', label);
    b.disabled = disabled;
    b.addEventListener('click', () => onOffset(target * page.limit));
    node.append(b);
  };
  button('« first', 0, at === 0);
  button('‹ prev', at - 1, at === 0);
  node.append(el('span', ` page ${at + 1} of ${last + 1} (${page.total} trials) `, { id: 'page-info' }));
  button('next ›', at + 1, at >= last);
  button('last »', last, at >= last);
}

export function renderStateFilter(node, s, current, onPick) {
  node.replaceChildren();
  const states = [
    ['', 'all', s.trials.total],
    ...Object.entries(STATE_LABEL).map(([k, v]) => [k, v, s.trials[k] ?? 0]),
  ];
  for (const [key, label, n] of states) {
    const b = el('button', `${label} (${n})`, { class: key === current ? 'active' : '' });
    b.addEventListener('click', () => onPick(key));
    node.append(b);
  }
}

export function renderDetail(node, d, metric) {
  node.replaceChildren();
  if (!d) {
    node.append(el('p', 'Click a trial.', { class: 'meta' }));
    return;
  }
  const t = d.trial;
  const facts = [
    ['trial', t.trial_id],
    ['index', t.index],
    ['state', STATE_LABEL[t.state] ?? t.state],
    [metric, t.value === null ? '–' : full(t.value)],
    ['epochs', t.epochs],
    ['rung', d.rung === null ? '–' : d.rung],
    ['attempt', t.attempt],
    ['seed', t.seed],
    ['worker', t.worker ?? '–'],
    ['backend', t.backend ?? '–'],
    ['started', when(t.started_at)],
    ['ended', when(t.ended_at)],
  ];
  const facts_ = el('table');
  fillTable(
    facts_,
    ['', ''],
    facts.map(([k, v]) => [k, String(v)]),
  );
  node.append(facts_);
  if (t.error) node.append(el('pre', t.error, { class: 'error' }));
  node.append(el('h4', 'parameters (full precision)'));
  node.append(el('pre', JSON.stringify(t.params, null, 2)));
  if (t.metrics) {
    node.append(el('h4', 'final metrics'));
    node.append(el('pre', JSON.stringify(t.metrics, null, 2)));
  }
  const names = [...new Set(d.epochs.flatMap((e) => Object.keys(e.metrics)))].filter((n) => n !== 'epoch');
  const epochs = el('table');
  fillTable(
    epochs,
    ['epoch', ...names],
    d.epochs.map((e) => [
      e.epoch,
      ...names.map((n) => (typeof e.metrics[n] === 'number' ? e.metrics[n] : '')),
    ]),
  );
  node.append(el('h4', 'epochs'));
  const wrap = el('div', null, { class: 'scroll' });
  wrap.append(epochs);
  node.append(wrap);
}

/** The backends a worker's trials ran on ("wasm (auto)" when auto picked it), else the one asked for. */
function backendText(w) {
  const used = (w.backends_in_use ?? []).join(', ');
  if (!used) return w.backend ?? '';
  return w.backend && w.backend !== used ? `${used} (${w.backend})` : used;
}

export function renderWorkers(table, answer) {
  fillTable(
    table,
    [
      'worker',
      'slots',
      'busy',
      'backend',
      'trials done',
      'draining',
      'invalid messages',
      'up since',
      'last heard',
    ],
    answer.workers.map((w) => [
      w.name,
      w.slots,
      w.busy,
      backendText(w),
      w.trials_done,
      w.draining ? 'yes' : 'no',
      w.invalid_messages,
      when(w.started_at),
      when(w.sent_at),
    ]),
  );
}

const pair = (p) => (p ? `(${Math.round(p[0] * 100)}%, ${Math.round(p[1] * 100)}%)` : '–');

export function renderSeedTable(table, rows) {
  fillTable(
    table,
    [
      'arch',
      'optimizer',
      'learning rate',
      'batch',
      'epochs',
      'trials',
      'val',
      'train (top, bottom)',
      'test (top, bottom)',
      'seed report train',
      'seed report test',
    ],
    rows.map((r) => [
      r.arch,
      r.optimizer,
      full(r.learning_rate),
      r.batch_size,
      r.epochs,
      r.trials,
      r.value,
      pair(r.train),
      pair(r.test),
      r.reference.map((x) => `(${x.train[0]}%, ${x.train[1]}%)`).join(' ') || '–',
      r.reference.map((x) => `(${x.test[0]}%, ${x.test[1]}%)`).join(' ') || '–',
    ]),
  );
}
