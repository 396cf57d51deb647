/**
 * The report as one self-contained HTML file: the Markdown rendered by `marked`, with every plot's SVG
 * inlined in place of its image link (no external files, scripts or fonts). Raw HTML and links in the
 * Markdown are escaped: nothing from a sweep file or the bus becomes markup.
 */
import { Marked } from 'marked';

const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
th { background: #f3f3f3; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1em 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #555; }
code { background: #f3f3f3; padding: 0 0.2em; }
`;

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** `svgs` maps each image link target of the Markdown to its SVG text; a link with no SVG stays text. */
export function renderHtml(markdown: string, title: string, svgs: ReadonlyMap<string, string>): string {
  const marked = new Marked({
    gfm: true,
    renderer: {
      // Raw HTML in the Markdown can only come from text that is not ours (a sweep's description, a
      // string parameter, a worker name or error from the bus): shown as text, never as markup.
      html({ text }) {
        return escapeHtml(text);
      },
      // The report writes no links; one made by such text (e.g. `[x](javascript:…)`) stays text.
      link({ text }) {
        return escapeHtml(text);
      },
      // An image that is not one of the plots rendered (text from a sweep file or the bus may name any,
      // e.g. `![a](plots/nope.svg)`) stays its text: nothing is fetched, and the report is written.
      image({ href, text }) {
        const svg = svgs.get(href);
        if (svg === undefined) return escapeHtml(text);
        return `<figure>${svg}<figcaption>${escapeHtml(text)}</figcaption></figure>`;
      },
    },
  });
  const body = marked.parse(markdown, { async: false });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
