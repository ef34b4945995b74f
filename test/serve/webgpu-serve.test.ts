// `nanochat serve --backend webgpu`: the one model replica decodes on the GPU in the HTTP thread (Dawn opens no
// device in worker threads). On CI the adapter is Mesa's llvmpipe. Greedy answers through the official openai
// client equal the native server's, streamed or not, and concurrent requests decode together in its batch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { makeFixture, spawnServe } from './fixture.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

test('serve --backend webgpu answers the openai client as serve on native does (greedy, streamed, two at once)', { timeout: 180_000 }, async () => {
  const fx = await makeFixture(['mid']);
  const answers: Record<string, string[]> = {};
  try {
    for (const backend of ['native', 'webgpu']) {
      const s = await spawnServe(fx.baseDir, ['-i', 'mid', '--backend', backend]);
      try {
        const client = new OpenAI({ baseURL: s.url + '/v1', apiKey: 'unused', maxRetries: 0 });
        const ask = (content: string) =>
          client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content }], max_tokens: 12, temperature: 0 });
        const one = await ask('Hello there!');
        // two requests at once share the replica's decode batch
        const [a, b] = await Promise.all([ask('What is 2 + 2?'), ask('Tell me a story.')]);
        const stream = await client.chat.completions.create({
          model: 'x', messages: [{ role: 'user', content: 'Hello there!' }], max_tokens: 12, temperature: 0, stream: true,
        });
        let streamed = '';
        for await (const c of stream) streamed += c.choices[0]?.delta?.content ?? '';
        answers[backend] = [one, a, b].map((r) => r.choices[0].message.content ?? '').concat(streamed);
        for (const r of [one, a, b]) assert.ok(r.usage && r.usage.completion_tokens >= 1, JSON.stringify(r.usage));
        if (backend === 'webgpu') assert.match(s.log(), /loading mid on the GPU \(webgpu, in this thread\)/);
      } finally {
        assert.equal(await s.stop(), 0, s.log());
      }
    }
    assert.equal(answers.webgpu[3], answers.webgpu[0], 'streamed and plain agree at temperature 0');
    assert.deepEqual(answers.webgpu, answers.native);
    console.log(`# webgpu and native answered ${JSON.stringify(answers.webgpu)}`);
    assert.ok(answers.native.every((t) => t.length > 0), JSON.stringify(answers.native));
  } finally {
    fx.cleanup();
  }
});

test('serve --backend webgpu --workers 2 says the GPU holds one replica and what to raise instead', async () => {
  const fx = await makeFixture(['mid']);
  try {
    const r = spawnSync(process.execPath, [MAIN, 'serve', '-i', 'mid', '--backend', 'webgpu', '--workers', '2'], {
      encoding: 'utf8', env: { ...process.env, NANOCHAT_BASE_DIR: fx.baseDir }, timeout: 60_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /serve on webgpu runs one model replica on the GPU, not 2: drop --workers \(raise --batch/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    fx.cleanup();
  }
});
