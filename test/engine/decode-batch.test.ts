// Continuous batching: streams with different prompts, settings and start times decoded together
// give exactly what each would give alone, on both backends; GPT.forwardDecode agrees with the
// single-sequence cached forward; streams end on their own rules; tools work inside a batch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, ContextError, type FinishReason } from '../../src/engine/engine.js';
import { DecodeBatch, type DecodeStream, type StreamOptions } from '../../src/engine/decode-batch.js';
import { getBackend, setBackend } from '../../src/tensor/backends.js';
import { backends } from '../helpers/backends.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';
import { ScriptedModel, tinyGpt } from './helpers.js';

const tok = new ByteTokenizer();
const sp = (name: Parameters<ByteTokenizer['specialId']>[0]) => tok.specialId(name);
const bytes = (s: string) => tok.encode(s);
const chat = (q: string) => [tok.bosId(), sp('<|user_start|>'), ...bytes(q), sp('<|user_end|>'), sp('<|assistant_start|>')];

/** What Engine.streamText gives for one request alone: tokens, text, finish. */
async function alone(
  engine: Engine, prompt: number[], opts: StreamOptions,
): Promise<{ tokens: number[]; text: string; finish: FinishReason | null }> {
  const tokens: number[] = [];
  let text = '';
  let finish: FinishReason | null = null;
  for await (const c of engine.streamText(prompt, opts)) { tokens.push(c.token); text += c.text; finish = c.finish; }
  return { tokens, text, finish };
}

for (const be of backends()) {
  test(`forwardDecode: each row's logits equal the single-sequence cached forward at its own position [${be.name}]`, async () => {
    const saved = getBackend();
    setBackend(be);
    try {
      const m = tinyGpt(tok.vocabSize, { seed: 5, sequenceLen: 64, nLayer: 2 });
      const prompts = [chat('hi'), chat('a longer question here'), [tok.bosId(), ...bytes('x')]];
      // two copies of every sequence's cache: one advanced alone, one inside the batch
      const prefilled = async (p: number[]) => {
        const c = m.newCache(1, 40);
        await m.forwardCached(Int32Array.from(p), 1, p.length, c);
        return c;
      };
      const single = [], batched = [];
      for (const p of prompts) single.push(await prefilled(p));
      for (const p of prompts) batched.push(await prefilled(p));
      const Vp = m.vocabPadded;
      for (let step = 0; step < 4; step++) {
        const ids = Int32Array.from(prompts, (_, b) => 40 + 7 * b + step);
        const got = await m.forwardDecode(ids, batched);
        for (let b = 0; b < prompts.length; b++) {
          const want = await m.forwardCached(ids.subarray(b, b + 1), 1, 1, single[b]);
          for (let j = 0; j < Vp; j++) assert.ok(Math.abs(got[b * Vp + j] - want[j]) < 1e-5 * (1 + Math.abs(want[j])), `step ${step} row ${b} logit ${j}: ${got[b * Vp + j]} vs ${want[j]}`);
          assert.equal(batched[b].pos, single[b].pos);
        }
      }
      const full = m.newCache(1, prompts[0].length);
      await m.forwardCached(Int32Array.from(prompts[0]), 1, prompts[0].length, full);
      await assert.rejects(m.forwardDecode(Int32Array.of(1), [full]), /full/);
      await assert.rejects(m.forwardDecode(Int32Array.of(1, 2), [batched[0]]), /2 tokens for 1 caches/);
    } finally {
      setBackend(saved);
    }
  });

  test(`streams joining and leaving a batch give what each gives alone, token for token [${be.name}]`, async () => {
    const saved = getBackend();
    setBackend(be);
    try {
      const m = tinyGpt(tok.vocabSize, { seed: 3, sequenceLen: 96, nLayer: 2 });
      const engine = new Engine(m, tok);
      const requests: { prompt: number[]; opts: StreamOptions; joinAt: number }[] = [
        { prompt: chat('Hello there'), opts: { temperature: 0, maxTokens: 30 }, joinAt: 0 },
        { prompt: chat('Why is the sky blue?'), opts: { temperature: 1, topK: 20, seed: 7, maxTokens: 25 }, joinAt: 0 },
        { prompt: [tok.bosId(), ...bytes('Once upon')], opts: { temperature: 0.8, seed: 1, maxTokens: 12 }, joinAt: 3 },
        { prompt: chat('q'), opts: { temperature: 0.5, seed: 1 }, joinAt: 5 }, // no max: this one runs to the context
      ];
      const want = [];
      for (const r of requests) want.push(await alone(engine, r.prompt, r.opts));
      const got = requests.map(() => ({ tokens: [] as number[], text: '', finish: null as FinishReason | null }));
      const batch = new DecodeBatch(engine);
      const owner = new Map<DecodeStream, number>();
      const record = (i: number, e: { token: number; text: string; finish: FinishReason | null }) => {
        got[i].tokens.push(e.token); got[i].text += e.text; got[i].finish = e.finish;
      };
      let maxLive = 0;
      for (let step = 0; step < 200 && (batch.size > 0 || step <= 5); step++) {
        for (const [i, r] of requests.entries()) {
          if (r.joinAt !== step) continue;
          const e = await batch.add(r.prompt, r.opts);
          owner.set(e.stream, i);
          record(i, e);
        }
        maxLive = Math.max(maxLive, batch.size);
        for (const e of await batch.step()) record(owner.get(e.stream)!, e);
      }
      assert.equal(batch.size, 0);
      assert.ok(maxLive >= 3, `only ${maxLive} streams were ever decoded together`);
      for (let i = 0; i < requests.length; i++) assert.deepEqual(got[i], want[i], `request ${i}`);
      assert.equal(got[3].finish, 'context');
      assert.equal(got[0].finish === 'length' || got[0].finish === 'stop', true);
    } finally {
      setBackend(saved);
    }
  });
}

test('a batch runs the tool machinery per stream, and removes a cancelled stream', async () => {
  const junk = bytes('Z')[0];
  const script = [sp('<|python_start|>'), ...bytes('6*7'), sp('<|python_end|>'), junk, junk, junk, junk, ...bytes(' ok'), sp('<|assistant_end|>')];
  const model = new ScriptedModel(tok.vocabSize, [script]);
  const engine = new Engine(model, tok);
  const batch = new DecodeBatch(engine);
  const first = await batch.add(chat('q'), { temperature: 0 });
  let text = first.text;
  let finish: FinishReason | null = null;
  const forced: boolean[] = [first.forced];
  while (batch.size > 0) for (const e of await batch.step()) { text += e.text; finish = e.finish; forced.push(e.forced); }
  assert.equal(text, '<<6*7=42>> ok');
  assert.equal(finish, 'stop');
  assert.equal(forced.filter(Boolean).length, 4); // <|output_start|> 4 2 <|output_end|>

  assert.equal(model.liveCaches.size, 0); // a finished stream's cache went back to the model

  const junkModel = new ScriptedModel(tok.vocabSize, [[junk]]);
  const b2 = new DecodeBatch(new Engine(junkModel, tok));
  const e = await b2.add(chat('q'), { temperature: 0, maxTokens: 100 });
  await b2.step();
  assert.equal(b2.size, 1);
  assert.equal(junkModel.liveCaches.size, 1);
  b2.remove(e.stream);
  assert.equal(b2.size, 0);
  assert.equal(junkModel.liveCaches.size, 0); // and a cancelled one's, once
  b2.remove(e.stream);
  assert.deepEqual(await b2.step(), []);
});

test('a stream that ends on its first token is never kept; a prompt with no room is a ContextError', async () => {
  const model = new ScriptedModel(tok.vocabSize, [[sp('<|assistant_end|>')]], 32);
  const batch = new DecodeBatch(new Engine(model, tok));
  const e = await batch.add(chat('q'), { temperature: 0 });
  assert.equal(e.finish, 'stop');
  assert.equal(e.text, '');
  assert.equal(batch.size, 0);
  await assert.rejects(batch.add(Array(32).fill(tok.bosId())), ContextError);
  assert.equal(batch.size, 0);
  const one = await batch.add(chat('q'), { temperature: 0, maxTokens: 1 });
  assert.equal(one.finish, 'stop');
  assert.equal(model.liveCaches.size, 0);
});
