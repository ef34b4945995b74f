// The chat page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// send a message and watch it stream, edit a turn, regenerate, render markdown without running a
// hostile reply, start over, and show an error when the server is gone. Saves a screenshot.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { makeFixture, type Fixture } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium): browser test skipped`;
if (skip) process.stderr.write(`${skip}\n`);

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;
let fx: Fixture;
let server: RunningServer;
let browser: Browser;
let page: Page;
export const SCREENSHOT = join(tmpdir(), 'nanochat-chat-page.png');

before(async () => {
  if (skip) return;
  fx = await makeFixture(['sft']);
  // 8 ms per token so streaming is visible
  server = await startServer({ source: 'sft', workers: 1, batch: 1, maxQueue: 4, tokenDelayMs: 8 }, '127.0.0.1', 0);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  page.on('pageerror', (e) => { throw e; });
  await page.goto(server.url + '/');
  await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('online'));
  await page.click('#settings-toggle');
  await page.fill('#max-tokens', '60');
  await page.click('#settings-toggle');
  assert.ok(await page.locator('#settings').isHidden());
});

after(async () => {
  await browser?.close();
  await server?.close();
  fx?.cleanup();
});

const assistantText = () => page.locator('.msg.assistant .body').last().innerText();
const waitIdle = () => page.waitForSelector('.msg.streaming', { state: 'detached', timeout: 20000 });

async function send(text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

test('send a message and see the answer stream in', { skip }, async () => {
  // The page itself notes the first text it shows while the reply is still streaming: polling from here raced the
  // stream's end on a busy machine (a short reply is done in ~100 ms at 8 ms a token).
  await page.evaluate(() => {
    const w = window as unknown as { seenWhileStreaming: number };
    w.seenWhileStreaming = 0;
    new MutationObserver(() => {
      const body = document.querySelector('.msg.assistant.streaming .body') as HTMLElement | null;
      if (!w.seenWhileStreaming && body && body.innerText.length > 0) w.seenWhileStreaming = body.innerText.length;
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await send('Hello there');
  await page.waitForFunction(() => document.querySelector('.msg.assistant') && !document.querySelector('.msg.streaming'),
    undefined, { timeout: 20000 });
  const early = await page.evaluate(() => (window as unknown as { seenWhileStreaming: number }).seenWhileStreaming);
  const final = await assistantText();
  assert.ok(early > 0, 'the reply was seen while streaming');
  assert.ok(final.length > early, `text grew while streaming (${early} -> ${final.length})`);
  assert.equal(await page.locator('.msg.user .body').innerText(), 'Hello there');
});

test('edit a user turn: the conversation after it is replaced by a new answer', { skip }, async () => {
  await page.locator('.msg.user').first().getByRole('button', { name: 'Edit' }).click();
  await page.fill('.msg.user textarea.edit', 'An edited question');
  const answered = page.waitForResponse((r) => r.url().endsWith('/chat/completions'));
  await page.getByRole('button', { name: 'Save & submit' }).click();
  // wait for the request itself: a short answer can finish before a 'streaming' state is observable
  await answered;
  await waitIdle();
  assert.equal(await page.locator('.msg').count(), 2);
  assert.equal(await page.locator('.msg.user .body').innerText(), 'An edited question');
});

test('regenerate an assistant turn', { skip }, async () => {
  let requests = 0;
  page.on('request', (r) => { if (r.url().endsWith('/chat/completions')) requests++; });
  const answered = page.waitForResponse((r) => r.url().endsWith('/chat/completions'));
  await page.locator('.msg.assistant').last().getByRole('button', { name: 'Regenerate' }).click();
  await answered;
  await waitIdle();
  assert.equal(requests, 1);
  assert.equal(await page.locator('.msg').count(), 2);
});

test('markdown renders safely: a reply with <script> and onerror runs nothing', { skip }, async () => {
  const reply = ['Here: <script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned = 2">', ' and **bold**, `code`', '\n\n```js\nconst tag = "<b>";\n```\n', '[x](javascript:alert(1)) [ok](https://example.com)'];
  await page.route('**/chat/completions', (route) => route.fulfill({
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    body: reply.map((t) => `data: ${JSON.stringify({ token: t })}\n\n`).join('') + 'data: {"done": true}\n\n',
  }));
  await send('show me html');
  await waitIdle();
  await page.unroute('**/chat/completions');
  const body = page.locator('.msg.assistant .body').last();
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.equal(await body.locator('script, img, [onerror]').count(), 0);
  const text = await body.innerText();
  assert.match(text, /<script>window.__pwned = 1<\/script>/);
  assert.match(text, /onerror=/);
  assert.equal(await body.locator('strong').innerText(), 'bold');
  assert.equal(await body.locator('pre code').innerText(), 'const tag = "<b>";');
  assert.equal(await body.locator('a').count(), 1, 'only the https link is a link');
  assert.equal(await body.locator('a').getAttribute('href'), 'https://example.com');
  await page.screenshot({ path: SCREENSHOT });
  process.stderr.write(`screenshot: ${SCREENSHOT}\n`);
});

test('new conversation, then a visible error when the server is unreachable', { skip }, async () => {
  await page.click('#new-chat');
  assert.equal(await page.locator('.msg').count(), 0);
  assert.ok(await page.locator('#empty').isVisible());
  await server.close();
  await send('anyone there?');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.locator('#error').innerText(), /Cannot reach the server/);
  assert.equal(await page.locator('.msg.user .body').innerText(), 'anyone there?', 'the message is kept');
});
