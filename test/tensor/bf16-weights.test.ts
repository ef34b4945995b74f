// bf16 weight storage for inference (src/tensor/bf16-weights.ts, bf16-buf.ts; native/gemm_bf16.c
// nc_k_matmul_bf16w): the matmul with Bf16Buf weights against the f32 kernel on the same bf16-rounded values, on
// odd shapes and every instruction set this CPU has; a GPT converted to bf16 against the f32 model holding the
// same (rounded) weights; greedy decoding; and the clear error when such a model is trained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeBackend, NativeBackend } from '../../src/tensor/native.js';
import { RefBackend } from '../../src/tensor/ref.js';
import { Bf16Buf, BF16_INFERENCE_ONLY, hasBf16Weights, toBf16Weights } from '../../src/tensor/bf16-weights.js';
import { roundArrayToBf16, roundToBf16 } from '../../src/tensor/bf16.js';
import { setBackend } from '../../src/tensor/backends.js';
import { setMatmulPrecision } from '../../src/tensor/precision.js';
import { arena, hostData, noGrad } from '../../src/tensor/tensor.js';
import type { Backend, MatmulParams } from '../../src/tensor/backend.js';
import { GPT } from '../../src/model/gpt.js';
import { backends, eachIsa } from '../helpers/backends.js';

const loaded = loadNativeBackend();
const nb = 'backend' in loaded ? (loaded.backend as NativeBackend) : undefined;
const skipWhy = 'error' in loaded ? `native addon not built: ${loaded.error}` : '';
const ref = new RefBackend();

let seed = 2024;
function rand(): number {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const rnd = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

/** max |got - want| / max |want| */
function relErr(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length);
  let e = 0, m = 1e-30;
  for (let i = 0; i < want.length; i++) {
    assert.ok(Number.isFinite(got[i]), `non-finite value at ${i}: ${got[i]}`);
    e = Math.max(e, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return e / m;
}

// f32 sums of up to 131 products: a few ulps of the largest partial sums relative to the largest output
const F32_ACCUMULATION = 2e-6;

test('Bf16Buf rounds to nearest even as roundToBf16, and expands back exactly', () => {
  const specials = [0, -0, 1, -1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1e-40, -1e-40, 3.4e38, Infinity, -Infinity, NaN, 65504.7];
  const x = Float32Array.from([...specials, ...rnd(1000, 100)]);
  const back = Bf16Buf.fromFloat32(x).toFloat32();
  for (let i = 0; i < x.length; i++) assert.ok(Object.is(back[i], roundToBf16(x[i])), `${x[i]}: ${back[i]} vs ${roundToBf16(x[i])}`);
  const view = Bf16Buf.fromFloat32(x).subarray(3, 9);
  assert.equal(view.length, 6);
  assert.deepEqual(Array.from(view.toFloat32()), Array.from(back.subarray(3, 9)));
});


/**
 * c = op(a) w^T with w as a Bf16Buf on `be`, against the f32 kernel of `peer` on the rounded values (a rounded too
 * when bf16); also accumulating into c.
 */
function checkShapes(be: Backend, peer: Backend, what: string, bf16: boolean): void {
  for (const M of [1, 3, 17]) for (const N of [7, 33, 129]) for (const K of [5, 64, 131]) for (const transA of [false, true]) {
    const a = rnd(M * K), w = rnd(N * K, 0.5);
    const wBuf = Bf16Buf.fromFloat32(w);
    const p: MatmulParams = { batch: 1, M, N, K, transA, transB: true, accumulate: false, bf16 };
    const want = new Float32Array(M * N), got = new Float32Array(M * N);
    peer.matmul(bf16 ? roundArrayToBf16(a) : a, wBuf.toFloat32(), want, { ...p, bf16: false });
    be.matmul(a, wBuf, got, p);
    const e = relErr(got, want);
    assert.ok(e <= F32_ACCUMULATION, `${what} M=${M} N=${N} K=${K} transA=${transA}: error ${e.toExponential(2)}`);
    const c0 = rnd(M * N);
    const accGot = c0.slice();
    be.matmul(a, wBuf, accGot, { ...p, accumulate: true });
    const accWant = Float32Array.from(want, (v, i) => v + c0[i]);
    assert.ok(relErr(accGot, accWant) <= F32_ACCUMULATION, `${what} accumulate M=${M} N=${N} K=${K}`);
  }
}

test('native matmul with bf16 weights = the f32 kernel on the same values, every ISA', (t) => {
  if (!nb) return t.skip(skipWhy);
  eachIsa(nb, (isa) => checkShapes(nb, nb, `native ${isa} f32 x bf16`, false));
});

test('native matmul with bf16 weights at bf16 precision (vdpbf16ps) = the f32 kernel on rounded inputs', (t) => {
  if (!nb) return t.skip(skipWhy);
  if (!nb.hasBf16Matmul()) return t.skip(`no bf16 matmul here: ${nb.bf16Unavailable()}`);
  checkShapes(nb, nb, 'native avx512bf16', true);
  // decoding sizes that cross the cache blocks and the thread split (N K >= 256 Ki), B read straight from bf16
  for (const [M, N, K] of [[1, 1280, 1280], [8, 5120, 1280], [9, 1280, 5120], [200, 300, 1100]]) {
    const a = rnd(M * K), w = Bf16Buf.fromFloat32(rnd(N * K, 0.1));
    const want = new Float32Array(M * N), got = new Float32Array(M * N);
    nb.matmul(roundArrayToBf16(a), w.toFloat32(), want, { batch: 1, M, N, K, transA: false, transB: true, accumulate: false });
    nb.matmul(a, w, got, { batch: 1, M, N, K, transA: false, transB: true, accumulate: false, bf16: true });
    assert.ok(relErr(got, want) <= 1e-5, `M=${M} N=${N} K=${K}: ${relErr(got, want)}`);
  }
});

test('ref matmul with bf16 weights (the oracle) = ref f32 on the same values; native agrees with it', (t) => {
  checkShapes(ref, ref, 'ref', false);
  checkShapes(ref, ref, 'ref bf16 precision', true);
  if (!nb) return t.skip(skipWhy);
  checkShapes(nb, ref, 'native vs ref', false);
});

test('a product that reads bf16 weights untransposed (the backward) is refused with a clear error', (t) => {
  const w = Bf16Buf.fromFloat32(rnd(12));
  const p: MatmulParams = { batch: 1, M: 2, N: 4, K: 3, transA: false, transB: false, accumulate: false };
  assert.throws(() => ref.matmul(rnd(6), w, new Float32Array(8), p), (e: Error) => e.message === BF16_INFERENCE_ONLY);
  if (!nb) return t.skip(skipWhy);
  assert.throws(() => nb.matmul(rnd(6), w, new Float32Array(8), p), (e: Error) => e.message === BF16_INFERENCE_ONLY);
});

const CONFIG = { vocabSize: 300, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 64, sequenceLen: 32 };

/** A small GPT with every matrix random (init zeroes lm_head and the projections) and rounded to bf16 values. */
function roundedModel(): GPT {
  const m = new GPT(CONFIG);
  m.initWeights(11);
  for (const [name, t] of m.params) {
    const d = hostData(t.data);
    if (name === 'lm_head.weight' || name.endsWith('c_proj.weight')) for (let i = 0; i < d.length; i++) d[i] = (rand() - 0.5) * 0.3;
    if (name !== 'transformer.wte.weight') d.set(roundArrayToBf16(d));
  }
  return m;
}

/** The same weights in a second model, converted to bf16 storage. */
function bf16Copy(f: GPT): GPT {
  const g = new GPT(CONFIG);
  for (const [name, t] of f.params) hostData(g.param(name).data).set(hostData(t.data));
  const r = toBf16Weights(g);
  assert.equal(r.matrices, 6 * CONFIG.nLayer + 1); // the blocks' six matrices and lm_head; wte stays f32
  assert.ok(hasBf16Weights(g) && g.param('transformer.wte.weight').data instanceof Float32Array);
  return g;
}

const logitsOf = (m: GPT, ids: Int32Array, T: number): Float32Array => {
  const out = noGrad(() => m.forward(ids, 1, T).logits.toArray());
  arena.reset();
  return out;
};

for (const be of backends()) {
  test(`a GPT with bf16 weights = the f32 GPT on the same rounded weights [${be.name}]`, async () => {
    setBackend(be);
    try {
      const f = roundedModel(), g = bf16Copy(f);
      const T = 20, ids = Int32Array.from({ length: T }, (_, i) => (i * 37 + 5) % CONFIG.vocabSize);
      // f32 activations: every product is f32 x (the same) bf16 value, so only the summation order differs
      const e = relErr(logitsOf(g, ids, T), logitsOf(f, ids, T));
      assert.ok(e <= 1e-5, `bf16 storage vs f32 on rounded weights: ${e.toExponential(2)}`);
      if (be.hasBf16Matmul?.() || be.name === 'ref') {
        // bf16 precision rounds the activations too, on both models alike: still f32-sum close to each other, and
        // within bf16 rounding (2^-9 per activation, through two layers and the soft-cap) of the f32 logits
        setMatmulPrecision('bf16');
        const gb = logitsOf(g, ids, T), fb = logitsOf(f, ids, T);
        setMatmulPrecision('f32');
        assert.ok(relErr(gb, fb) <= 1e-5, `bf16 precision, bf16 storage vs f32 storage: ${relErr(gb, fb)}`);
        const loose = relErr(gb, logitsOf(f, ids, T));
        assert.ok(loose <= 3e-2, `bf16 precision vs f32: ${loose}`);
      }
      // greedy decoding with the KV cache: the same tokens from both
      const greedy = async (m: GPT): Promise<number[]> => {
        const cache = m.newCache(1, 32), out: number[] = [];
        let logits = await m.forwardCached(ids.subarray(0, 8), 1, 8, cache);
        for (let s = 0; s < 12; s++) {
          let best = 0;
          for (let j = 1; j < CONFIG.vocabSize; j++) if (logits[j] > logits[best]) best = j;
          out.push(best);
          logits = await m.forwardCached(Int32Array.of(best), 1, 1, cache);
        }
        return out;
      };
      assert.deepEqual(await greedy(g), await greedy(f));
    } finally {
      setMatmulPrecision('f32');
      arena.reset();
    }
  });

  test(`training a bf16 model fails with a clear error [${be.name}]`, () => {
    setBackend(be);
    const g = bf16Copy(roundedModel());
    const T = 8, ids = Int32Array.from({ length: T }, (_, i) => i + 1), targets = Int32Array.from({ length: T }, (_, i) => i + 2);
    try {
      const { loss } = g.forward(ids, 1, T, targets);
      assert.throws(() => loss!.backward(), (e: Error) => e.name === 'UserError' && e.message === BF16_INFERENCE_ONLY);
      assert.equal(g.param('lm_head.weight').grad, null); // no gradient buffers to step with either
    } finally {
      arena.reset();
    }
  });
}
