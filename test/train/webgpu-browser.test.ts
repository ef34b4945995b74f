// The webgpu backend in a browser tab: headless Chromium (Debian's /usr/bin/chromium via playwright-core) with
// WebGPU on SwiftShader, loading the very modules the CLI runs (dist/src, served from 127.0.0.1) with no bundler and
// no Node shims. A tiny GPT trains 8 steps there on navigator.gpu and on ref in the same tab (losses within 1e-4
// relative) and decodes greedily to the same tokens: the model, the optimizer, the engine's cache path and the
// kernels need nothing of Node. SwiftShader has subgroups, so the tab also checks the reductions that use them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium): skipped`;
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', '..'); // dist/, holding src/ and test/
const tabScript = join(here, '..', '..', '..', 'test', 'train', 'browser', 'gpu-tab.js');

/** /src/... from dist/src, /gpu-tab.js from the test's own folder, and a page that loads it. */
function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = url.pathname === '/gpu-tab.js' ? tabScript
      : url.pathname.startsWith('/src/') ? normalize(join(dist, url.pathname)) : undefined;
    const allowed = file === tabScript || (file !== undefined && file.startsWith(join(dist, 'src') + '/'));
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><script type="module" src="/gpu-tab.js"></script>');
    } else if (allowed && existsSync(file!)) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(readFileSync(file));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('a tiny GPT trains and decodes on webgpu in a Chromium tab, as on ref', { skip, timeout: 300_000 }, async () => {
  const server = await serve();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const port = (server.address() as { port: number }).port;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => typeof (window as unknown as { gpuTab?: unknown }).gpuTab === 'function', null, { timeout: 30_000 })
      .catch(() => assert.fail(`the tab did not load its modules: ${errors.join('; ')}`));
    type Run = { losses: number[]; tokens: number[] };
    type Errors = Record<string, number>;
    const r = await page.evaluate((steps) => (window as unknown as { gpuTab(s: number): Promise<unknown> }).gpuTab(steps), 8) as
      { error?: string; adapter: { isSoftware: boolean; architecture: string }; gpu: Run; ref: Run;
        reductions: { flavor: string; errors: Errors; treeErrors: Errors } };
    assert.equal(r.error, undefined);
    assert.equal(r.adapter.isSoftware, true, 'SwiftShader is a software adapter and is named one');
    assert.equal(r.gpu.losses.length, 8);
    r.ref.losses.forEach((l, i) => assert.ok(Math.abs(l - r.gpu.losses[i]) <= 1e-4 * l, `step ${i + 1}: ref ${l}, webgpu ${r.gpu.losses[i]}`));
    assert.ok(r.gpu.losses[7] < r.gpu.losses[0], `the loss falls: ${r.gpu.losses}`);
    assert.deepEqual(r.gpu.tokens, r.ref.tokens);
    assert.deepEqual(errors, []);
    console.log(`# ${r.adapter.architecture}: losses ${r.gpu.losses.map((l) => l.toFixed(4)).join(' ')}; tokens ${r.gpu.tokens}`);
    // SwiftShader has subgroups (4 lanes) and Chromium WGSL's subgroup_id: the reductions (and the training above)
    // ran on subgroups; both flavors agree with ref to float32 rounding of sums over up to 70,001 terms
    assert.equal(r.reductions.flavor, 'subgroups');
    for (const [flavor, errs] of [['subgroups', r.reductions.errors], ['tree', r.reductions.treeErrors]] as const) {
      assert.equal(Object.keys(errs).length, 10, `${flavor}: ${JSON.stringify(errs)}`);
      for (const [name, e] of Object.entries(errs)) assert.ok(e <= 1e-5, `${flavor} ${name}: relative difference ${e}`);
      console.log(`# reductions on ${flavor}: ${Object.entries(errs).map(([k, e]) => `${k} ${e.toExponential(1)}`).join(', ')}`);
    }
  } finally {
    await browser.close();
    server.close();
  }
});
