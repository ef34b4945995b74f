// The page's markdown renderer (src/serve/page/markdown.js, plain browser JS) run under Node.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/serve/static.js';

type Md = { renderMarkdown(s: string): string; escapeHtml(s: string): string };
const load = async (): Promise<Md> => (await import(pathToFileURL(join(packageRoot(), 'src', 'serve', 'page', 'markdown.js')).href)) as Md;

test('HTML in a reply is escaped, never markup', async () => {
  const { renderMarkdown } = await load();
  const html = renderMarkdown('<script>alert(1)</script> <img src=x onerror="alert(2)"> **<b>x</b>**');
  assert.doesNotMatch(html, /<script|<img|<b>/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /onerror=&quot;alert\(2\)&quot;/);
  assert.match(html, /<strong>&lt;b&gt;x&lt;\/b&gt;<\/strong>/);
});

test('code blocks, inline code, lists, headings, links', async () => {
  const { renderMarkdown } = await load();
  const html = renderMarkdown('# Title\n\nSome `a<b` and *it*.\n\n- one\n- two\n\n1. first\n\n```python\nif a < b:\n    print("**no**")\n```\nafter');
  assert.match(html, /<h3>Title<\/h3>/);
  assert.match(html, /<code>a&lt;b<\/code>/);
  assert.match(html, /<em>it<\/em>/);
  assert.match(html, /<ul><li>one<\/li><li>two<\/li><\/ul>/);
  assert.match(html, /<ol><li>first<\/li><\/ol>/);
  assert.match(html, /<code class="language-python">if a &lt; b:\n    print\(&quot;\*\*no\*\*&quot;\)<\/code>/);
  assert.match(html, /<p>after<\/p>/);
});

test('an unclosed fence (mid-stream) renders as code to the end', async () => {
  const { renderMarkdown } = await load();
  assert.match(renderMarkdown('x\n```js\nlet a = 1;'), /<code class="language-js">let a = 1;<\/code><\/pre>$/);
});

test('only http(s) links become links, and their URL cannot leave the attribute', async () => {
  const { renderMarkdown } = await load();
  assert.doesNotMatch(renderMarkdown('[x](javascript:alert(1))'), /<a /);
  const html = renderMarkdown('[ok](https://e.com/"onmouseover="alert(1))');
  assert.match(html, /<a href="https:\/\/e.com\/&quot;onmouseover=&quot;alert\(1" /);
});
