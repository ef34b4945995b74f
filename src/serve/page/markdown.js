// A small, safe markdown renderer for model replies (no dependencies, no build step).
//
// Safety rule: every piece of the model's text is HTML-escaped FIRST; markup is then added only by
// matching patterns in the escaped text, and the only tags we create are fixed ones without event
// attributes. A reply containing <script> or onerror= shows as text and can never run. Links are
// kept only for http(s) URLs. (The page's Content-Security-Policy forbids inline scripts as a
// second line of defence.)
//
// Supported: fenced code blocks (``` with an optional language; an unclosed fence while streaming
// renders as code up to the end), inline `code`, **bold**, *italic*, # headings (1-3), bullet and
// numbered lists, [links](https://...), paragraphs and line breaks.

export function escapeHtml(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Inline markup on already-escaped text. Code spans are cut out first so nothing inside them is formatted. */
function inline(escaped) {
  const parts = escaped.split(/(`[^`\n]+`)/g);
  return parts.map((p, i) => {
    if (i % 2 === 1) return `<code>${p.slice(1, -1)}</code>`;
    return p
      .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_m, text, url) => `<a href="${url}" target="_blank" rel="noopener noreferrer nofollow">${text}</a>`)
      .replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>')
      .replace(/(^|[^*\w])\*([^*\n]+)\*(?!\w)/g, '$1<em>$2</em>');
  }).join('');
}

/** Block structure of a text without code fences. */
function blocks(text) {
  const out = [];
  const lines = text.split('\n');
  let para = [];
  let list = null; // { tag: 'ul' | 'ol', items: [] }
  const endPara = () => {
    if (para.length) out.push(`<p>${para.map((l) => inline(escapeHtml(l))).join('<br>')}</p>`);
    para = [];
  };
  const endList = () => {
    if (list) out.push(`<${list.tag}>${list.items.map((it) => `<li>${inline(escapeHtml(it))}</li>`).join('')}</${list.tag}>`);
    list = null;
  };
  for (const line of lines) {
    const h = /^(#{1,3})\s+(.*)$/.exec(line);
    const ul = /^\s*[-*+]\s+(.*)$/.exec(line);
    const ol = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (h) {
      endPara(); endList();
      const n = h[1].length + 2; // # -> h3, ## -> h4, ### -> h5: replies sit inside the page's own headings
      out.push(`<h${n}>${inline(escapeHtml(h[2]))}</h${n}>`);
    } else if (ul || ol) {
      endPara();
      const tag = ul ? 'ul' : 'ol';
      if (list && list.tag !== tag) endList();
      if (!list) list = { tag, items: [] };
      list.items.push((ul || ol)[1]);
    } else if (line.trim() === '') {
      endPara(); endList();
    } else {
      endList();
      para.push(line);
    }
  }
  endPara(); endList();
  return out.join('');
}

/** Markdown text -> safe HTML string. */
export function renderMarkdown(text) {
  const out = [];
  const fence = /^```([\w+-]*)[^\n]*\n?/m;
  let rest = text;
  for (;;) {
    const open = fence.exec(rest);
    if (!open) { out.push(blocks(rest)); break; }
    out.push(blocks(rest.slice(0, open.index)));
    const lang = open[1];
    const body = rest.slice(open.index + open[0].length);
    const close = /^```[ \t]*$/m.exec(body);
    const code = close ? body.slice(0, close.index).replace(/\n$/, '') : body;
    const cls = lang ? ` class="language-${escapeHtml(lang)}"` : '';
    out.push(`<pre><div class="code-head">${escapeHtml(lang || 'code')}</div><code${cls}>${escapeHtml(code)}</code></pre>`);
    if (!close) break;
    rest = body.slice(close.index + close[0].length).replace(/^\n/, '');
  }
  return out.join('');
}
