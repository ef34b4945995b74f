// Markdown to HTML for the report: the subset the stages write (headings, paragraphs, lists, tables,
// fenced code, images, bold and inline code). Text is HTML-escaped before any markup is added, so
// sample text from a model can never inject markup into the page.

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function inline(s: string): string {
  return esc(s)
    .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_, alt, src) => `<img alt="${alt}" src="${src}">`)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

export function markdownToHtml(md: string, title: string): string {
  const lines = md.split('\n');
  const html: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith('```')) {
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) code.push(lines[i]);
      html.push(`<pre><code>${esc(code.join('\n'))}</code></pre>`);
    } else if (/^#{1,6} /.test(l)) {
      const n = l.indexOf(' ');
      html.push(`<h${n}>${inline(l.slice(n + 1))}</h${n}>`);
    } else if (l.startsWith('|')) {
      const rows: string[][] = [];
      for (; i < lines.length && lines[i].startsWith('|'); i++) rows.push(lines[i].slice(1, lines[i].endsWith('|') ? -1 : undefined).split('|').map((c) => c.trim()));
      i--;
      const body = rows.filter((_, k) => k !== 1 || !rows[1].every((c) => /^:?-+:?$/.test(c)));
      html.push('<table>', `<tr>${body[0].map((c) => `<th>${inline(c)}</th>`).join('')}</tr>`, ...body.slice(1).map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`), '</table>');
    } else if (/^[-*] /.test(l)) {
      const items: string[] = [];
      for (; i < lines.length && /^[-*] /.test(lines[i]); i++) items.push(`<li>${inline(lines[i].slice(2))}</li>`);
      i--;
      html.push('<ul>', ...items, '</ul>');
    } else if (l.trim()) {
      html.push(`<p>${inline(l)}</p>`);
    }
  }
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
th { background: #f3f3f3; } pre { background: #f6f6f6; padding: 1em; overflow-x: auto; } img { max-width: 100%; }
code { background: #f3f3f3; padding: 0 3px; }
</style></head><body>
${html.join('\n')}
</body></html>
`;
}
