// `nanochat serve` as a process: it prints its URL once listening, serves, and stops cleanly on SIGTERM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeFixture, spawnServe } from './fixture.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

test('nanochat serve --port 0 --json: listens, answers, stops on SIGTERM', async () => {
  const fx = await makeFixture(['mid']);
  try {
    const s = await spawnServe(fx.baseDir, ['-i', 'mid']);
    const { url, model } = s;
    assert.equal(model, 'mid/d1@1');
    const h = (await (await fetch(url + '/health')).json()) as { status: string };
    assert.equal(h.status, 'ok');
    const r = await fetch(url + '/v1/chat/completions', { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }) });
    assert.equal(r.status, 200);
    assert.equal(await s.stop(), 0, s.log());
    assert.match(s.log(), /stopping/);
  } finally {
    fx.cleanup();
  }
});

test('nanochat serve without a checkpoint says which command makes one', async () => {
  const fx = await makeFixture([]);
  try {
    const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0'], { env: { ...process.env, NANOCHAT_BASE_DIR: fx.baseDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 1);
    assert.match(err, /no sft checkpoint.*nanochat chat-sft/);
  } finally {
    fx.cleanup();
  }
});
