// Formatting and DOM helpers. Every value from the server goes into the page as text (textContent),
// never as HTML, so names, parameter values and errors cannot inject markup.

/** Display form of a number: at least 6 significant digits, exponent form when very small or large. */
export function num(x) {
  if (x === null || x === undefined) return '';
  if (typeof x !== 'number') return String(x);
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e9)) return x.toExponential(5).replace(/\.?0+e/, 'e');
  return String(Number(x.toPrecision(6)));
}

/** A parameter value at full precision (the shortest text that reads back as the same number). */
export function full(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'number' ? String(v) : String(v);
}

export function when(ms) {
  if (!ms) return '';
  // A time out of Date's range (a sender's clock or a forged message) reads '?', never throws.
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '?';
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

export function duration(ms) {
  if (ms === null || ms === undefined || ms < 0) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${(s / 60).toFixed(1)} min`;
}

/** Creates an element with text content and attributes. */
export function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'title') e.title = v;
    else e.setAttribute(k, v);
  }
  return e;
}

/** Replaces a table's content with a header row and body rows (cells: text or Node). */
export function fillTable(table, head, rows) {
  table.replaceChildren();
  const thead = el('thead');
  const tr = el('tr');
  for (const h of head) tr.append(h instanceof Node ? h : el('th', h));
  thead.append(tr);
  const tbody = el('tbody');
  for (const r of rows) {
    const row = r instanceof Node ? r : rowOf(r);
    tbody.append(row);
  }
  table.append(thead, tbody);
}

export function rowOf(cells) {
  const tr = el('tr');
  for (const c of cells) {
    if (c instanceof Node) tr.append(c);
    else if (typeof c === 'number') tr.append(el('td', num(c), { class: 'num', title: String(c) }));
    else tr.append(el('td', c ?? ''));
  }
  return tr;
}

/** Escapes text for the few places a chart library wants HTML (tooltips). */
export function escapeHtml(s) {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}
