import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GPT, configFromDepth, padVocab } from '../../src/model/gpt.js';
import { arena, noGrad, hostData } from '../../src/tensor/tensor.js';
import { setBackend } from '../../src/tensor/backends.js';
import type { Backend, Buf } from '../../src/tensor/backend.js';
import { backends } from '../helpers/backends.js';
import { Optimizer } from '../../src/train/optimizer.js';
import * as op from '../../src/tensor/ops.js';

test('sizes from --depth and the parameter / FLOPs-per-token formulas of nanochat', () => {
  const c = configFromDepth(20, 65536, 2048);
  assert.deepEqual([c.nEmbd, c.nHead, c.nKvHead, c.nLayer], [1280, 10, 10, 20]);
  const m = new GPT(c);
  // the reference d20: 560,988,160 parameters = 2*V*C + 12*L*C^2
  assert.equal(m.numParams(), 560_988_160);
  assert.equal(m.numParams(), 2 * 65536 * 1280 + 12 * 20 * 1280 * 1280);
  assert.equal(m.flopsPerToken(), 6 * (560_988_160 - 65536 * 1280) + 12 * 20 * 10 * 128 * 2048);
  assert.equal(padVocab(8200), 8256);
  assert.throws(() => configFromDepth(4, 100, 64, { nKvHead: 3, headDim: 64 }), /must divide/);
});

for (const be of backends()) {
  test(`at initialization the loss is ln(V) exactly (zero head, uniform logits) [${be.name}]`, () => {
    setBackend(be);
    const V = 300;
    const m = new GPT(configFromDepth(2, V, 16, { headDim: 32 }));
    m.initWeights(1);
    const ids = Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 7) % V);
    const targets = Int32Array.from({ length: 32 }, (_, i) => (i % 5 === 0 ? -1 : (i * 11) % V));
    const loss = noGrad(() => m.forward(ids, 2, 16, targets).loss!.item());
    assert.ok(Math.abs(loss - Math.log(V)) < 1e-5, `loss ${loss} vs ln(${V}) = ${Math.log(V)}`);
    arena.reset();
  });

  test(`KV-cache inference gives the same logits as the full forward [${be.name}]`, async () => {
    setBackend(be);
    const V = 200, T = 9, B = 2;
    const m = new GPT({ vocabSize: V, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 32, sequenceLen: 16 });
    m.initWeights(7);
    // zero-initialized projections would hide attention bugs: give them values
    for (const [n, t] of m.params) if (n.endsWith('c_proj.weight') || n === 'lm_head.weight') hostData(t.data).forEach((_, i, d) => { d[i] = Math.sin(i * 0.37 + n.length) * 0.2; });
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 13 + 5) % V);
    const full = noGrad(() => m.forward(ids, B, T).logits.toArray());
    arena.reset();
    const Vp = m.vocabPadded;
    // prefill 5 tokens, then decode the rest one at a time
    const cache = m.newCache(B, T);
    const pre = Int32Array.from({ length: B * 5 }, (_, i) => ids[Math.floor(i / 5) * T + (i % 5)]);
    let last = await m.forwardCached(pre, B, 5, cache);
    const check = (t: number) => {
      for (let b = 0; b < B; b++) for (let j = 0; j < Vp; j++) {
        const want = full[(b * T + t) * Vp + j], got = last[b * Vp + j];
        assert.ok(Math.abs(want - got) < 1e-4 * (1 + Math.abs(want)), `row ${b} position ${t} logit ${j}: ${got} vs ${want}`);
      }
    };
    check(4);
    for (let t = 5; t < T; t++) {
      last = await m.forwardCached(Int32Array.from({ length: B }, (_, b) => ids[b * T + t]), B, 1, cache);
      check(t);
    }
    assert.equal(cache.pos, T);
  });

  test(`releaseCache hands every layer's k and v back to the backend, once [${be.name}]`, async () => {
    const released: Buf[] = [];
    // the backend as it is, except that release is counted
    const counting = new Proxy(be, {
      get(target, key) {
        if (key === 'release') return (buf: Buf) => { released.push(buf); target.release(buf); };
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Backend;
    setBackend(counting);
    try {
      const m = new GPT({ vocabSize: 100, nLayer: 3, nHead: 2, nKvHead: 1, nEmbd: 32, sequenceLen: 16 });
      m.initWeights(1);
      const cache = m.newCache(2, 8);
      await m.forwardCached(Int32Array.from({ length: 2 * 3 }, (_, i) => i), 2, 3, cache);
      const bufs = [...cache.k, ...cache.v];
      m.releaseCache(cache);
      assert.equal(released.length, 2 * 3);
      assert.deepEqual(new Set(released), new Set(bufs));
      m.releaseCache(cache); // the cache no longer holds them: nothing is released twice
      assert.equal(released.length, 2 * 3);
    } finally {
      setBackend(be);
    }
  });

  test(`a 2-layer GPT memorizes a batch (loss near zero) [${be.name}]`, () => {
    setBackend(be);
    const V = 64, T = 16, B = 2;
    const m = new GPT({ vocabSize: V, nLayer: 2, nHead: 2, nKvHead: 1, nEmbd: 32, sequenceLen: T });
    m.initWeights(3);
    const opt = new Optimizer(m.paramGroups({ embedding: 0.2, unembedding: 0.02, matrix: 0.02 }));
    const seq = Int32Array.from({ length: B * (T + 1) }, (_, i) => (i * 29 + 3) % V);
    const ids = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) { ids[b * T + t] = seq[b * (T + 1) + t]; targets[b * T + t] = seq[b * (T + 1) + t + 1]; }
    let loss = 0;
    for (let step = 0; step < 200; step++) {
      const out = m.forward(ids, B, T, targets).loss!;
      out.backward();
      loss = out.item();
      opt.stepAll();
      opt.zeroGrad();
      arena.reset();
    }
    assert.ok(loss < 0.05, `loss after 200 steps is ${loss}, expected < 0.05 (start: ln 64 = 4.16)`);
  });

  test(`the training loss (soft-cap fused into cross-entropy) equals crossEntropy(logits), gradients too [${be.name}]`, () => {
    setBackend(be);
    const V = 100, T = 8, B = 3;
    const m = new GPT({ vocabSize: V, nLayer: 1, nHead: 2, nKvHead: 2, nEmbd: 32, sequenceLen: T });
    m.initWeights(5);
    // a head large enough that many logits sit in the curved part of 15 tanh(z / 15)
    hostData(m.param('lm_head.weight').data).forEach((_, i, d) => { d[i] = Math.sin(i * 0.61) * 4; });
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 17 + 3) % V);
    const targets = Int32Array.from({ length: B * T }, (_, i) => (i % 4 === 3 ? -1 : (i * 31 + 7) % V));
    const gradsOf = (): Float32Array[] => [...m.params].map(([, t]) => hostData(t.grad!).slice());
    const fused = m.forward(ids, B, T, targets);
    fused.loss!.backward();
    const lf = fused.loss!.item(), gf = gradsOf();
    // the capped logits are still there when asked for (computed on the read)
    const capped = fused.logits.toArray(), raw = fused.rawLogits!.toArray();
    raw.forEach((z, i) => assert.ok(Math.abs(capped[i] - 15 * Math.tanh(z / 15)) < 1e-5, `logit ${i}`));
    for (const [, t] of m.params) hostData(t.grad!).fill(0);
    arena.reset();
    const unfused = op.crossEntropy(m.forward(ids, B, T).logits, targets, V);
    unfused.backward();
    const lu = unfused.item(), gu = gradsOf();
    assert.ok(lf > 1, `loss ${lf}: the head should make it large`);
    assert.ok(Math.abs(lf - lu) <= 1e-6 * Math.abs(lu), `fused loss ${lf} vs unfused ${lu}`);
    gf.forEach((g, k) => {
      let e = 0, mx = 1e-30;
      g.forEach((v, i) => { e = Math.max(e, Math.abs(v - gu[k][i])); mx = Math.max(mx, Math.abs(gu[k][i])); });
      assert.ok(e <= 1e-4 * mx, `parameter ${k}: gradients differ by ${e} (max ${mx})`);
    });
    arena.reset();
  });
}
