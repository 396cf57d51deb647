// The JSON API and the live event stream.

export async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

export const exp = (name) => `/api/experiments/${encodeURIComponent(name)}`;

/** Calls onChange on every `change` event; shows the connection state in `badge`. */
export function listen(onChange, badge) {
  const source = new EventSource('/api/events');
  source.addEventListener('hello', () => {
    badge.textContent = 'live';
    badge.className = 'live on';
  });
  source.addEventListener('change', (e) => onChange(JSON.parse(e.data)));
  source.onerror = () => {
    badge.textContent = 'reconnecting…';
    badge.className = 'live off';
  };
  return source;
}
