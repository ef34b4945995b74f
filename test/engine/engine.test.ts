import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, ContextError } from '../../src/engine/engine.js';
import { replicateCache } from '../../src/engine/kv-cache.js';
import { argmax } from '../../src/engine/sampling.js';
import { arena, noGrad } from '../../src/tensor/tensor.js';
import { GPT } from '../../src/model/gpt.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';
import { collect, ScriptedModel, tinyGpt } from './helpers.js';

const tok = new ByteTokenizer();
const sp = (name: Parameters<ByteTokenizer['specialId']>[0]) => tok.specialId(name);
const bytes = (s: string) => tok.encode(s);

/** Next-token logits of the last position without any cache: the full forward over the whole prefix. */
function logitsNoCache(m: GPT, prefix: number[]): Float32Array {
  const all = noGrad(() => m.forward(Int32Array.from(prefix), 1, prefix.length).logits.toArray());
  arena.reset();
  return all.subarray((prefix.length - 1) * m.vocabPadded, prefix.length * m.vocabPadded);
}

test('greedy decoding with the KV cache equals decoding without it, token for token', async () => {
  const m = tinyGpt(tok.vocabSize, { seed: 3, sequenceLen: 64, nLayer: 2 });
  const engine = new Engine(m, tok);
  const prompt = [tok.bosId(), ...bytes('Hello there')];
  const steps = await collect(engine.generate(prompt, { temperature: 0, maxTokens: 40 }));
  assert.ok(steps.length >= 5, `only ${steps.length} steps`);
  const seq = [...prompt];
  for (const s of steps) {
    const t = s.tokens[0];
    if (!s.forced[0]) assert.equal(t, argmax(logitsNoCache(m, seq), 0, m.config.vocabSize), `step ${seq.length - prompt.length}`);
    seq.push(t);
  }
});

test('a replicated cache gives every row the logits of the single-row cache', async () => {
  const m = tinyGpt(tok.vocabSize, { seed: 5 });
  const prompt = Int32Array.from([tok.bosId(), ...bytes('abc')]);
  const one = m.newCache(1, 16);
  await m.forwardCached(prompt, 1, prompt.length, one);
  const three = m.newCache(3, 16);
  replicateCache(one, three);
  assert.equal(three.pos, prompt.length);
  const next = bytes('d')[0];
  const l1 = await m.forwardCached(Int32Array.from([next]), 1, 1, one);
  const l3 = await m.forwardCached(Int32Array.from([next, next, next]), 3, 1, three);
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < m.config.vocabSize; i++) assert.ok(Math.abs(l3[r * m.vocabPadded + i] - l1[i]) < 1e-5);
  }
});

test('multi-sample rows at temperature 1 differ from the first token on; the seed makes them repeatable', async () => {
  const m = new GPT({ vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nKvHead: 2, nEmbd: 32, sequenceLen: 64 });
  m.initWeights(1); // zero head: uniform logits, the hardest case for "rows must not be copies"
  const engine = new Engine(m, tok);
  const prompt = [tok.bosId(), ...bytes('Hi')];
  const a = await engine.generateBatch(prompt, { numSamples: 6, temperature: 1, maxTokens: 8, seed: 7 });
  const firsts = new Set(a.generated.map((g) => g[0] ?? -1));
  assert.ok(firsts.size >= 5, `first tokens of 6 rows: ${[...firsts]}`);
  const b = await engine.generateBatch(prompt, { numSamples: 6, temperature: 1, maxTokens: 8, seed: 7 });
  assert.deepEqual(b.generated, a.generated);
  const c = await engine.generateBatch(prompt, { numSamples: 6, temperature: 1, maxTokens: 8, seed: 8 });
  assert.notDeepEqual(c.generated, a.generated);
  // row r does not depend on how many rows run beside it
  const single = await engine.generateBatch(prompt, { numSamples: 1, temperature: 1, maxTokens: 8, seed: 7 });
  assert.deepEqual(single.generated[0], a.generated[0]);
});

test('top-k 1 is greedy at any temperature', async () => {
  const m = tinyGpt(tok.vocabSize, { seed: 9 });
  const engine = new Engine(m, tok);
  const prompt = [tok.bosId(), ...bytes('x')];
  const greedy = await engine.generateBatch(prompt, { temperature: 0, maxTokens: 12 });
  const k1 = await engine.generateBatch(prompt, { temperature: 1.5, topK: 1, maxTokens: 12, numSamples: 2 });
  assert.deepEqual(k1.generated[0], greedy.generated[0]);
  assert.deepEqual(k1.generated[1], greedy.generated[0]);
});

test('tool use: the expression is calculated and <|output_start|>result<|output_end|> is forced, marked as forced', async () => {
  const junk = bytes('Z')[0];
  // the model writes "<<1+2" ... then keeps proposing junk while the engine forces the answer
  const script = [[sp('<|python_start|>'), ...bytes('1+2'), sp('<|python_end|>'), junk, junk, junk, ...bytes(' ok'), sp('<|assistant_end|>'), junk]];
  const model = new ScriptedModel(tok.vocabSize, script);
  const engine = new Engine(model, tok);
  const prompt = [tok.bosId(), sp('<|user_start|>'), ...bytes('q'), sp('<|user_end|>'), sp('<|assistant_start|>')];
  const steps = await collect(engine.generate(prompt, { temperature: 0, maxTokens: 50 }));
  const tokens = steps.map((s) => s.tokens[0]);
  const forced = steps.map((s) => s.forced[0]);
  const expected = [sp('<|python_start|>'), ...bytes('1+2'), sp('<|python_end|>'), sp('<|output_start|>'), ...bytes('3'), sp('<|output_end|>'), ...bytes(' ok'), sp('<|assistant_end|>')];
  assert.deepEqual(tokens, expected);
  assert.deepEqual(forced, expected.map((_, i) => i >= 5 && i <= 7));
  assert.equal(steps[steps.length - 1].finished[0], 'stop');
  // forced tokens are fed back to the model like any other
  assert.deepEqual(model.fed.map((c) => c[0]), expected.slice(0, -1));

  // the batch view drops the end token and masks forced tokens with 0
  const batch = await new Engine(new ScriptedModel(tok.vocabSize, script), tok).generateBatch(prompt, { temperature: 0 });
  assert.deepEqual(batch.generated[0], expected.slice(0, -1));
  assert.deepEqual(batch.masks[0], expected.slice(0, -1).map((_, i) => (i >= 5 && i <= 7 ? 0 : 1)));
  // and the display text shows the call the way GSM8K writes it
  const chunks = await collect(new Engine(new ScriptedModel(tok.vocabSize, script), tok).streamText(prompt, { temperature: 0 }));
  const text = chunks.map((c) => c.text).join('');
  assert.equal(text, '<<1+2=3>> ok');
});

test('tool use: .count works and an expression the calculator refuses forces nothing', async () => {
  // the script advances one entry per step, so the 3 forced steps (output_start, '3', output_end) consume 3 junk entries
  const script = [[sp('<|python_start|>'), ...bytes("'strawberry'.count('r')"), sp('<|python_end|>'), ...bytes('ZZZ...'),
    sp('<|python_start|>'), ...bytes('__import__("os")'), sp('<|python_end|>'), ...bytes('!'), sp('<|assistant_end|>')]];
  const engine = new Engine(new ScriptedModel(tok.vocabSize, script), tok);
  const text = (await collect(engine.streamText([tok.bosId()], { temperature: 0 }))).map((c) => c.text).join('');
  assert.equal(text, `<<'strawberry'.count('r')=3>>...<<__import__("os")=!`);
});

test('rows stop on <|bos|>, on max tokens and at the context length, and say which', async () => {
  const a = bytes('a')[0];
  const bosStop = await new Engine(new ScriptedModel(tok.vocabSize, [[a, a, tok.bosId()]]), tok).generateBatch([tok.bosId()], { temperature: 0 });
  assert.deepEqual(bosStop, { generated: [[a, a]], masks: [[1, 1]], finish: ['stop'] });

  const lengthStop = await new Engine(new ScriptedModel(tok.vocabSize, [[a]]), tok).generateBatch([tok.bosId()], { temperature: 0, maxTokens: 5 });
  assert.equal(lengthStop.generated[0].length, 5);
  assert.deepEqual(lengthStop.finish, ['length']);

  // context 16: a 10-token prompt leaves room for 6, whatever maxTokens asks
  const ctxEngine = new Engine(new ScriptedModel(tok.vocabSize, [[a]], 16), tok);
  const ctxStop = await ctxEngine.generateBatch(new Array(10).fill(a), { temperature: 0, maxTokens: 100 });
  assert.equal(ctxStop.generated[0].length, 6);
  assert.deepEqual(ctxStop.finish, ['context']);
  await assert.rejects(ctxEngine.generateBatch(new Array(16).fill(a)), ContextError);
  await assert.rejects(ctxEngine.generateBatch([]), ContextError);
  await assert.rejects(ctxEngine.generateBatch([99999]), /outside the vocabulary/);
});

test('rows finish independently; finished rows produce -1', async () => {
  const a = bytes('a')[0], end = sp('<|assistant_end|>');
  // step 0 uses the prefill row (row 0's script) for every row; afterwards each row its own
  const model = new ScriptedModel(tok.vocabSize, [[a, end], [a, a, a, end]]);
  const steps = await collect(new Engine(model, tok).generate([tok.bosId()], { numSamples: 2, temperature: 0 }));
  assert.deepEqual(steps.map((s) => s.tokens), [[a, a], [end, a], [-1, a], [-1, end]]);
  assert.deepEqual(steps.map((s) => s.finished), [[null, null], ['stop', null], [null, null], [null, 'stop']]);
});

test('a real model streams text through the engine until its budget', async () => {
  const m = tinyGpt(tok.vocabSize, { seed: 2 });
  const engine = new Engine(m, tok);
  const chunks = await collect(engine.streamText([tok.bosId(), ...bytes('Hi')], { temperature: 0.8, topK: 20, maxTokens: 10, seed: 1 }));
  assert.ok(chunks.length >= 1 && chunks.length <= 10);
  assert.ok(chunks[chunks.length - 1].finish);
  assert.ok(chunks.slice(0, -1).every((c) => c.finish === null));
});

test('every cache goes back to the model: after a run, an early stop, a multi-row run and a failed forward', async () => {
  const a = bytes('a')[0];
  const model = new ScriptedModel(tok.vocabSize, [[a]]);
  const engine = new Engine(model, tok);
  await engine.generateBatch([tok.bosId()], { temperature: 0, maxTokens: 4 });
  assert.equal(model.liveCaches.size, 0);
  await engine.generateBatch([tok.bosId()], { numSamples: 3, temperature: 0, maxTokens: 4 });
  assert.equal(model.liveCaches.size, 0);
  // a consumer that stops reading: the generator is closed, and its caches released, right then
  for await (const chunk of engine.streamText([tok.bosId()], { temperature: 0, maxTokens: 50 })) {
    assert.equal(model.liveCaches.size, 1);
    if (chunk.token === a) break;
  }
  assert.equal(model.liveCaches.size, 0);
  // a rejected prompt makes no cache at all; a forward that fails still releases the ones made
  await assert.rejects(engine.generateBatch([]), ContextError);
  const failing = new ScriptedModel(tok.vocabSize, [[a]]);
  failing.forwardCached = () => Promise.reject(new Error('device lost'));
  await assert.rejects(new Engine(failing, tok).generateBatch([tok.bosId()], { numSamples: 2 }), /device lost/);
  assert.equal(failing.liveCaches.size, 0);
});
