// The server for real: a tiny checkpoint in a temp base dir, workers in threads, node:http on a
// random loopback port, talked to with the official `openai` client and with fetch.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { makeFixture, type Fixture } from './fixture.js';

let fx: Fixture;
let fast: RunningServer;
let slow: RunningServer; // 1 worker, queue of 1, 10 ms per token: for disconnects and load limits

before(async () => {
  fx = await makeFixture(['sft', 'base']);
  fast = await startServer({ source: 'sft', workers: 1, batch: 4, maxQueue: 8 }, '127.0.0.1', 0);
  slow = await startServer({ source: 'sft', workers: 1, batch: 1, maxQueue: 1, tokenDelayMs: 10 }, '127.0.0.1', 0);
});
after(async () => {
  await fast?.close();
  await slow?.close();
  fx?.cleanup();
});

const post = (s: RunningServer, path: string, body: unknown, init: RequestInit = {}) =>
  fetch(s.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init });

async function health(s: RunningServer): Promise<{ busy: number; queued: number; status: string }> {
  return (await fetch(s.url + '/health')).json() as Promise<{ busy: number; queued: number; status: string }>;
}

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await cond()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

describe('OpenAI-compatible API with the official openai client', () => {
  const client = () => new OpenAI({ baseURL: fast.url + '/v1', apiKey: 'unused', maxRetries: 0 });

  test('models.list names the loaded model', async () => {
    const models = await client().models.list();
    assert.deepEqual(models.data.map((m) => m.id), ['sft/d1@1']);
  });

  test('chat completion, non-streaming: content, finish reason and usage', async () => {
    const r = await client().chat.completions.create({ model: 'sft/d1@1', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello!' }], max_tokens: 12, temperature: 0 });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(typeof r.choices[0].message.content, 'string');
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    assert.ok(r.usage && r.usage.prompt_tokens > 10 && r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 12);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  });

  test('chat completion, streaming, gives the same text as non-streaming at temperature 0', async () => {
    const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];
    const plain = await client().chat.completions.create({ model: 'x', messages, max_tokens: 20, temperature: 0 });
    const stream = await client().chat.completions.create({ model: 'x', messages, max_tokens: 20, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage;
    let chunks = 0;
    for await (const c of stream) {
      chunks++;
      if (c.usage) usage = c.usage;
      for (const ch of c.choices) {
        text += ch.delta.content ?? '';
        if (ch.finish_reason) finish = ch.finish_reason;
      }
    }
    assert.ok(chunks >= 3);
    assert.equal(text, plain.choices[0].message.content);
    assert.equal(finish, plain.choices[0].finish_reason);
    assert.deepEqual(usage, plain.usage);
  });

  test('concurrent requests are decoded together (batch 4) and each gets what it gets alone', async () => {
    const ask = (i: number) => client().chat.completions.create({
      model: 'x', messages: [{ role: 'user', content: `Question number ${i}: ${'why '.repeat(i)}?` }], max_tokens: 24 + 3 * i, temperature: 0,
    });
    const together = await Promise.all([0, 1, 2, 3, 4, 5].map(ask)); // 6 requests: 4 decode at once, 2 join as places free
    for (let i = 0; i < 6; i++) {
      const alone = await ask(i);
      assert.equal(together[i].choices[0].message.content, alone.choices[0].message.content, `request ${i}`);
      assert.deepEqual(together[i].usage, alone.usage);
    }
  });

  test('text completions, streaming and not', async () => {
    const r = await client().completions.create({ model: 'x', prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.usage?.completion_tokens, 8);
    assert.equal(r.choices[0].finish_reason, 'length');
    const s = await client().completions.create({ model: 'x', prompt: 'Once upon a time', max_tokens: 8, temperature: 0, stream: true });
    let text = '';
    for await (const c of s) text += c.choices[0]?.text ?? '';
    assert.equal(text, r.choices[0].text);
  });

  test('invalid requests come back as 400 BadRequestError naming the field', async () => {
    await assert.rejects(
      client().chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }], temperature: 3 }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.status === 400 && /temperature/.test(e.message) && (e.error as { param?: string }).param === 'temperature',
    );
  });
});

describe('the reference streaming endpoint', () => {
  test('POST /chat/completions streams data: {"token"} events then data: {"done": true}', async () => {
    const r = await post(fast, '/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 10, temperature: 0.5, top_k: 5 });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = (await r.text()).split('\n\n').filter(Boolean).map((e) => JSON.parse(e.replace(/^data: /, '')));
    const last = events.pop();
    assert.equal(last.done, true);
    assert.ok(events.length >= 1 && events.every((e) => typeof e.token === 'string'));
  });

  test('/health, the page and unknown routes', async () => {
    const h = await health(fast);
    assert.equal(h.status, 'ok');
    const page = await fetch(fast.url + '/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>nanochat<\/title>/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const js = await fetch(fast.url + '/markdown.js');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(fast.url + '/nope')).status, 404);
    const wrong = await fetch(fast.url + '/v1/chat/completions');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
  });
});

describe('validation limits, as the reference: HTTP 400 with a JSON error naming the field', () => {
  const user = (content: unknown) => ({ role: 'user', content });
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'x' }));
  const cases: [string, unknown, string][] = [
    ['malformed JSON', '{"messages": [', 'body'],
    ['a body that is not an object', '[1, 2]', 'body'],
    ['no messages', {}, 'messages'],
    ['messages not a list', { messages: 'hi' }, 'messages'],
    ['an empty list', { messages: [] }, 'messages'],
    ['501 messages', { messages: many(501) }, 'messages'],
    ['8001 characters in a message', { messages: [user('a'.repeat(8001))] }, 'messages[0].content'],
    ['32001 characters in total', { messages: [...many(4).map((m) => ({ ...m, content: 'b'.repeat(8000) })), user('c')] }, 'messages'],
    ['an unknown role', { messages: [{ role: 'robot', content: 'hi' }] }, 'messages[0].role'],
    ['content of the wrong type', { messages: [user(42)] }, 'messages[0].content'],
    ['a message that is not an object', { messages: ['hi'] }, 'messages[0]'],
    ['ending with an assistant message', { messages: [user('hi'), { role: 'assistant', content: 'yo' }] }, 'messages[1].role'],
    ['temperature above 2', { messages: [user('hi')], temperature: 2.5 }, 'temperature'],
    ['temperature below 0', { messages: [user('hi')], temperature: -0.1 }, 'temperature'],
    ['temperature as a string', { messages: [user('hi')], temperature: 'hot' }, 'temperature'],
    ['top_k 0', { messages: [user('hi')], top_k: 0 }, 'top_k'],
    ['top_k 201', { messages: [user('hi')], top_k: 201 }, 'top_k'],
    ['top_k not an integer', { messages: [user('hi')], top_k: 1.5 }, 'top_k'],
    ['max_tokens 0', { messages: [user('hi')], max_tokens: 0 }, 'max_tokens'],
    ['max_tokens 4097', { messages: [user('hi')], max_tokens: 4097 }, 'max_tokens'],
    ['stream not a boolean', { messages: [user('hi')], stream: 'yes' }, 'stream'],
    ['roles that do not alternate', { messages: [user('a'), user('b')] }, 'messages'],
    ['a prompt longer than the model context', { messages: [user('z'.repeat(2000))] }, 'messages'],
  ];
  for (const [what, body, param] of cases) {
    test(what, async () => {
      // the reference endpoint always streams, so it ignores `stream`
      for (const path of param === 'stream' ? ['/v1/chat/completions'] : ['/chat/completions', '/v1/chat/completions']) {
        const r = await post(fast, path, body);
        assert.equal(r.status, 400, `${path}: ${r.status}`);
        const j = (await r.json()) as { error: { message: string; param: string } };
        assert.equal(j.error.param, param, j.error.message);
        assert.ok(j.error.message.length > 10);
      }
    });
  }

  test('the limits themselves are accepted (temperature 0 and 2, top_k 1 and 200, max_tokens 1)', async () => {
    for (const extra of [{ temperature: 0, top_k: 1 }, { temperature: 2, top_k: 200 }]) {
      const r = await post(fast, '/v1/chat/completions', { messages: [user('hi')], max_tokens: 1, ...extra });
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens, 1);
    }
  });

  test('/v1/completions checks its prompt', async () => {
    const r = await post(fast, '/v1/completions', { prompt: 7 });
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as { error: { param: string } }).error.param, 'prompt');
  });

  test('an oversized body is refused with 413 before it is read', async () => {
    const r = await post(fast, '/v1/chat/completions', JSON.stringify({ messages: [user('x'.repeat(2 << 20))] }));
    assert.equal(r.status, 413);
    assert.equal(((await r.json()) as { error: { param: string } }).error.param, 'body');
  });
});

describe('load: disconnects, the bounded queue, /health during generation', () => {
  const long = { messages: [{ role: 'user', content: 'go on' }], max_tokens: 4000, temperature: 0 };

  test('a client that disconnects mid-stream frees its worker at once', async () => {
    const ac = new AbortController();
    const r = await post(slow, '/chat/completions', long, { signal: ac.signal });
    const reader = r.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /"token"/);
    assert.equal((await health(slow)).busy, 1);
    ac.abort();
    const ms = await waitFor(async () => (await health(slow)).busy === 0, 2000, 'the worker to be free');
    assert.ok(ms < 500, `freed after ${ms} ms`);
    // and it serves the next request
    const next = await post(slow, '/v1/chat/completions', { ...long, max_tokens: 2 });
    assert.equal(next.status, 200);
  });

  test('beyond the free workers requests wait in a bounded queue; past it 429 with Retry-After; /health stays fast', async () => {
    const a = new AbortController(), b = new AbortController();
    const ra = await post(slow, '/chat/completions', long, { signal: a.signal });
    assert.equal(ra.status, 200);
    const pb = post(slow, '/chat/completions', long, { signal: b.signal }); // waits in the queue
    await waitFor(async () => (await health(slow)).queued === 1, 2000, 'the second request to queue');
    const rc = await post(slow, '/v1/chat/completions', long);
    assert.equal(rc.status, 429);
    assert.equal(rc.headers.get('retry-after'), '1');
    assert.equal(((await rc.json()) as { error: { type: string } }).error.type, 'rate_limit_error');
    // /health answers while the worker generates
    const t0 = performance.now();
    const h = await health(slow);
    assert.ok(performance.now() - t0 < 200);
    assert.deepEqual([h.busy, h.queued], [1, 1]);
    // a queued client that leaves frees its place
    b.abort();
    await pb.catch(() => undefined);
    await waitFor(async () => (await health(slow)).queued === 0, 2000, 'the queue to empty');
    a.abort();
    await waitFor(async () => (await health(slow)).busy === 0, 2000, 'the worker to be free');
  });
});

describe('continuous batching', () => {
  test('a worker takes up to --batch requests at once; the next waits in the queue, past it 429', async () => {
    const s = await startServer({ source: 'sft', workers: 1, batch: 2, maxQueue: 1, tokenDelayMs: 10 }, '127.0.0.1', 0);
    try {
      const long = { messages: [{ role: 'user', content: 'go on' }], max_tokens: 4000, temperature: 0 };
      const a = new AbortController(), b = new AbortController(), c = new AbortController();
      const [ra, rb] = await Promise.all([post(s, '/chat/completions', long, { signal: a.signal }), post(s, '/chat/completions', long, { signal: b.signal })]);
      assert.deepEqual([ra.status, rb.status], [200, 200]);
      // both stream at the same time
      const [fa, fb] = await Promise.all([ra.body!.getReader().read(), rb.body!.getReader().read()]);
      assert.match(new TextDecoder().decode(fa.value), /"token"/);
      assert.match(new TextDecoder().decode(fb.value), /"token"/);
      const pc = post(s, '/chat/completions', long, { signal: c.signal });
      await waitFor(async () => (await health(s)).queued === 1, 2000, 'the third request to queue');
      const h = await health(s) as { busy: number; queued: number; batch?: number };
      assert.deepEqual([h.busy, h.queued, h.batch], [2, 1, 2]);
      assert.equal((await post(s, '/v1/chat/completions', long)).status, 429);
      // one leaves: the queued one joins the batch
      a.abort();
      await waitFor(async () => { const x = await health(s); return x.busy === 2 && x.queued === 0; }, 2000, 'the queued request to join');
      b.abort();
      c.abort();
      await pc.catch(() => undefined);
      await waitFor(async () => (await health(s)).busy === 0, 2000, 'the worker to be free');
    } finally {
      await s.close();
    }
  });
});

describe('a crashed worker', () => {
  test('fails its request, the server answers 503 with Retry-After until the worker is back', async () => {
    const r = await post(slow, '/chat/completions', { messages: [{ role: 'user', content: 'go on' }], max_tokens: 4000, temperature: 0 });
    const reader = r.body!.getReader();
    await reader.read(); // streaming has begun
    const slots = (slow.pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
    await slots[0].worker.terminate();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    assert.match(rest, /"error":\{"message":"the model worker stopped/);
    const refused = await post(slow, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((await health(slow)).status, 'loading');
    await waitFor(async () => (await health(slow)).status === 'ok', 10000, 'the worker to restart');
    const ok = await post(slow, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
    assert.equal(ok.status, 200);
  });
});
