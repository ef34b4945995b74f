// Every differentiable op's analytic gradient against central finite differences of an independent
// float64 implementation of its forward (plain loops written here, not the backend's kernels).
// Loss = sum(out * W) for a random W, so dLoss/dout = W is the seed of the backward.
// Runs on every backend that loads (ref always; native when the addon is built).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, arena, hostData } from '../../src/tensor/tensor.js';
import * as op from '../../src/tensor/ops.js';
import { createBackend, setBackend } from '../../src/tensor/backends.js';
import { backends } from '../helpers/backends.js';
import { seededRng } from '../../src/tensor/random.js';

const rand = seededRng(42);
const randn = (n: number, s = 1): Float64Array => {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = s * (rand() + rand() + rand() - 1.5) * 2;
  return x;
};
const randInt = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
// round to float32 so the f64 reference sees exactly the engine's inputs
const f32 = (x: Float64Array) => Float64Array.from(Float32Array.from(x));

type F64Forward = (xs: Float64Array[]) => Float64Array;

/**
 * Compare analytic and numeric gradients for every input. The numeric one is a central difference
 * with h = 1e-6 in float64; tolerance: |a - n| <= 2e-3 * max|n| + 1e-4 (the engine runs in float32).
 */
function checkGrad(name: string, shapes: number[][], ref: F64Forward, engine: (ts: Tensor[]) => Tensor, opts: { scale?: number; maxChecks?: number } = {}): void {
  const xs = shapes.map((s) => f32(randn(s.reduce((a, b) => a * b, 1), opts.scale ?? 1)));
  const ts = xs.map((x, i) => Tensor.from(Float32Array.from(x), shapes[i], true));
  const out = engine(ts);
  const W = f32(randn(out.size));
  out.backward(Float32Array.from(W));
  const loss = (inputs: Float64Array[]) => {
    const y = ref(inputs);
    assert.equal(y.length, W.length, `${name}: reference output size ${y.length} != engine output size ${W.length}`);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * W[i];
    return s;
  };
  // the forward itself must match the reference too
  const yRef = ref(xs), yEng = out.toArray();
  let fmax = 0, ferr = 0;
  for (let i = 0; i < yRef.length; i++) { fmax = Math.max(fmax, Math.abs(yRef[i])); ferr = Math.max(ferr, Math.abs(yRef[i] - yEng[i])); }
  assert.ok(ferr <= 1e-4 * fmax + 1e-5, `${name}: forward differs from the float64 reference by ${ferr} (max |y| ${fmax}; tolerance 1e-4 relative)`);
  const h = 1e-6;
  for (let i = 0; i < xs.length; i++) {
    const grad = ts[i].grad;
    assert.ok(grad, `${name}: input ${i} got no gradient`);
    const g = hostData(grad);
    const n = xs[i].length, checks = Math.min(n, opts.maxChecks ?? 48);
    const idx = n <= checks ? [...Array(n).keys()] : Array.from({ length: checks }, () => randInt(0, n - 1));
    const numeric: number[] = [];
    for (const j of idx) {
      const orig = xs[i][j];
      xs[i][j] = orig + h; const lp = loss(xs);
      xs[i][j] = orig - h; const lm = loss(xs);
      xs[i][j] = orig;
      numeric.push((lp - lm) / (2 * h));
    }
    const maxN = Math.max(...numeric.map(Math.abs));
    idx.forEach((j, k) => {
      const a = g[j], nn = numeric[k];
      assert.ok(Math.abs(a - nn) <= 2e-3 * maxN + 1e-4, `${name}: d/dinput${i}[${j}] analytic ${a} vs numeric ${nn} (tolerance 2e-3 * ${maxN.toFixed(4)} + 1e-4)`);
    });
  }
  arena.reset();
}

// ---- float64 reference forwards

function refMatmul(A: Float64Array, B: Float64Array, bt: number, M: number, N: number, K: number, tA: boolean, tB: boolean): Float64Array {
  const C = new Float64Array(bt * M * N);
  for (let b = 0; b < bt; b++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const a = tA ? A[b * M * K + k * M + i] : A[b * M * K + i * K + k];
      const v = tB ? B[b * K * N + j * K + k] : B[b * K * N + k * N + j];
      s += a * v;
    }
    C[b * M * N + i * N + j] = s;
  }
  return C;
}

function refRmsnorm(x: Float64Array, dim: number, eps = 1.1920929e-7): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[r * dim + i] ** 2;
    const s = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * s;
  }
  return y;
}

function refRope(x: Float64Array, B: number, T: number, H: number, D: number, pos0: number): Float64Array {
  const y = new Float64Array(x.length), half = D / 2;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let i = 0; i < half; i++) {
    const ang = (pos0 + t) * Math.pow(10000, (-2 * i) / D);
    const c = Math.fround(Math.cos(ang)), s = Math.fround(Math.sin(ang)); // the engine's tables are float32
    const o = ((b * T + t) * H + h) * D;
    y[o + i] = x[o + i] * c + x[o + half + i] * s;
    y[o + half + i] = -x[o + i] * s + x[o + half + i] * c;
  }
  return y;
}

function refAttention(q: Float64Array, k: Float64Array, v: Float64Array, B: number, T: number, H: number, Hkv: number, D: number): Float64Array {
  const out = new Float64Array(q.length);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const hk = Math.floor(h / (H / Hkv));
    for (let i = 0; i < T; i++) {
      const sc: number[] = [];
      for (let j = 0; j <= i; j++) {
        let d = 0;
        for (let e = 0; e < D; e++) d += q[((b * T + i) * H + h) * D + e] * k[((b * T + j) * Hkv + hk) * D + e];
        sc.push(d / Math.sqrt(D));
      }
      const m = Math.max(...sc);
      const p = sc.map((s) => Math.exp(s - m));
      const z = p.reduce((a, c) => a + c, 0);
      for (let e = 0; e < D; e++) {
        let acc = 0;
        for (let j = 0; j <= i; j++) acc += (p[j] / z) * v[((b * T + j) * Hkv + hk) * D + e];
        out[((b * T + i) * H + h) * D + e] = acc;
      }
    }
  }
  return out;
}

function refCrossEntropy(logits: Float64Array, targets: Int32Array, V: number, stride: number): Float64Array {
  const out = new Float64Array(targets.length);
  for (let r = 0; r < targets.length; r++) {
    if (targets[r] === -1) continue;
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, logits[r * stride + j]);
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(logits[r * stride + j] - m);
    out[r] = m + Math.log(z) - logits[r * stride + targets[r]];
  }
  return out;
}

const map = (x: Float64Array, f: (v: number) => number) => x.map(f);

// ---- the checks, per backend

for (const backend of backends()) {
  test(`gradients match float64 finite differences [${backend.name}]`, async (t) => {
    setBackend(backend);

    await t.test('matmul, every transpose combination, 2-D and batched, odd sizes and size 1', () => {
      for (const [bt, M, N, K] of [[1, 1, 1, 1], [1, 3, 5, 7], [1, 17, 1, 9], [2, 4, 33, 3], [3, 1, 6, 17]]) {
        for (const tA of [false, false, true]) for (const tB of [false, true]) {
          const aShape = tA ? [K, M] : [M, K], bShape = tB ? [N, K] : [K, N];
          const batched = bt > 1;
          checkGrad(`matmul b${bt} ${M}x${N}x${K} tA=${tA} tB=${tB}`,
            [batched ? [bt, ...aShape] : aShape, batched ? [bt, ...bShape] : bShape],
            ([a, b]) => refMatmul(a, b, bt, M, N, K, tA, tB),
            ([a, b]) => op.matmul(a, b, { transA: tA, transB: tB }));
        }
      }
    });

    await t.test('linear over a 3-D input (reshape in and out)', () => {
      checkGrad('linear', [[2, 3, 5], [7, 5]],
        ([x, w]) => refMatmul(x, w, 1, 6, 7, 5, false, true),
        ([x, w]) => op.linear(x, w));
    });

    await t.test('elementwise: add, mul, scale, reluSquared, softcap, transpose', () => {
      for (const n of [1, 13, 64]) {
        checkGrad(`add ${n}`, [[n], [n]], ([a, b]) => a.map((v, i) => v + b[i]), ([a, b]) => op.add(a, b));
        checkGrad(`mul ${n}`, [[n], [n]], ([a, b]) => a.map((v, i) => v * b[i]), ([a, b]) => op.mul(a, b));
        checkGrad(`scale ${n}`, [[n]], ([a]) => map(a, (v) => -2.5 * v), ([a]) => op.scale(a, -2.5));
        checkGrad(`reluSquared ${n}`, [[n]], ([a]) => map(a, (v) => (v > 0 ? v * v : 0)), ([a]) => op.reluSquared(a));
        checkGrad(`softcap ${n}`, [[n]], ([a]) => map(a, (v) => 15 * Math.tanh(v / 15)), ([a]) => op.softcap(a, 15), { scale: 20 });
      }
      checkGrad('transpose 3x5', [[3, 5]], ([a]) => { const y = new Float64Array(15); for (let r = 0; r < 3; r++) for (let c = 0; c < 5; c++) y[c * 3 + r] = a[r * 5 + c]; return y; }, ([a]) => op.transpose(a));
    });

    await t.test('sum and mean', () => {
      for (const n of [1, 7, 100]) {
        checkGrad(`sum ${n}`, [[n]], ([a]) => Float64Array.of(a.reduce((s, v) => s + v, 0)), ([a]) => op.sum(a));
        checkGrad(`mean ${n}`, [[n]], ([a]) => Float64Array.of(a.reduce((s, v) => s + v, 0) / n), ([a]) => op.mean(a));
      }
    });

    await t.test('rmsnorm over the last dimension', () => {
      for (const [rows, dim] of [[1, 1], [1, 8], [5, 3], [4, 33]]) {
        checkGrad(`rmsnorm ${rows}x${dim}`, [[rows, dim]], ([x]) => refRmsnorm(x, dim), ([x]) => op.rmsnorm(x));
      }
    });

    await t.test('rotary embedding, with and without a position offset, one for all rows or one per row', () => {
      for (const [B, T, H, D, pos0] of [[1, 1, 1, 2, 0], [2, 5, 3, 8, 0], [1, 4, 2, 6, 7]]) {
        const { cos, sin } = op.rotaryTables(pos0 + T, D);
        checkGrad(`rope ${B}x${T}x${H}x${D}@${pos0}`, [[B, T, H, D]], ([x]) => refRope(x, B, T, H, D, pos0), ([x]) => op.rope(x, cos, sin, pos0));
      }
      // one start position per row, as in batched decoding where every row is its own sequence
      const [B, T, H, D, starts] = [3, 2, 2, 6, [3, 0, 5]] as const, n = T * H * D;
      const { cos, sin } = op.rotaryTables(5 + T, D);
      const perRow = (x: Float64Array) => {
        const y = new Float64Array(x.length);
        starts.forEach((p, b) => y.set(refRope(x.subarray(b * n, (b + 1) * n), 1, T, H, D, p), b * n));
        return y;
      };
      checkGrad('rope with per-row positions', [[B, T, H, D]], ([x]) => perRow(x), ([x]) => op.rope(x, cos, sin, starts));
    });

    await t.test('causal attention, multi-head and grouped-query', () => {
      for (const [B, T, H, Hkv, D] of [[1, 1, 1, 1, 1], [1, 5, 2, 2, 4], [2, 7, 4, 2, 3], [1, 9, 3, 1, 8]]) {
        checkGrad(`attention B${B} T${T} H${H} Hkv${Hkv} D${D}`, [[B, T, H, D], [B, T, Hkv, D], [B, T, Hkv, D]],
          ([q, k, v]) => refAttention(q, k, v, B, T, H, Hkv, D),
          ([q, k, v]) => op.attention(q, k, v));
      }
    });

    await t.test('embedding lookup with repeated ids (scatter-add)', () => {
      const ids = Int32Array.from([3, 0, 3, 4, 1, 3]);
      checkGrad('embedding', [[5, 4]], ([tab]) => { const y = new Float64Array(ids.length * 4); ids.forEach((id, i) => { for (let e = 0; e < 4; e++) y[i * 4 + e] = tab[id * 4 + e]; }); return y; },
        ([tab]) => op.embedding(tab, ids, [2, 3]));
    });

    await t.test('cross-entropy: per-token and mean, ignore index -1, padded vocabulary', () => {
      for (const [N, V, stride] of [[1, 1, 1], [4, 7, 7], [6, 10, 16]]) {
        const targets = Int32Array.from({ length: N }, (_, i) => (i % 3 === 2 ? -1 : randInt(0, V - 1)));
        checkGrad(`cross-entropy none ${N}x${V}/${stride}`, [[N, stride]], ([l]) => refCrossEntropy(l, targets, V, stride), ([l]) => op.crossEntropy(l, targets, V, 'none'), { scale: 3 });
        const count = targets.filter((x) => x !== -1).length;
        checkGrad(`cross-entropy mean ${N}x${V}/${stride}`, [[N, stride]],
          ([l]) => Float64Array.of(refCrossEntropy(l, targets, V, stride).reduce((a, b) => a + b, 0) / Math.max(count, 1)),
          ([l]) => op.crossEntropy(l, targets, V, 'mean'), { scale: 3 });
      }
    });

    await t.test('soft-capped cross-entropy, fused: none, sum and mean, ignore index -1, padded vocabulary', () => {
      // raw values up to ~60 = 4 caps: both the linear middle and the saturated tails of 15 tanh(z / 15)
      const capped = (l: Float64Array) => map(l, (v) => 15 * Math.tanh(v / 15));
      for (const [N, V, stride] of [[1, 1, 1], [4, 7, 7], [7, 10, 16], [3, 129, 192]]) {
        const targets = Int32Array.from({ length: N }, (_, i) => (i % 3 === 2 ? -1 : randInt(0, V - 1)));
        const count = targets.filter((x) => x !== -1).length;
        const total = (l: Float64Array) => refCrossEntropy(capped(l), targets, V, stride).reduce((a, b) => a + b, 0);
        checkGrad(`softcap cross-entropy none ${N}x${V}/${stride}`, [[N, stride]],
          ([l]) => refCrossEntropy(capped(l), targets, V, stride),
          ([l]) => op.softcapCrossEntropy(l, targets, V, 15, 'none'), { scale: 20 });
        checkGrad(`softcap cross-entropy sum ${N}x${V}/${stride}`, [[N, stride]], ([l]) => Float64Array.of(total(l)),
          ([l]) => op.softcapCrossEntropy(l, targets, V, 15, 'sum'), { scale: 20 });
        checkGrad(`softcap cross-entropy mean ${N}x${V}/${stride}`, [[N, stride]],
          ([l]) => Float64Array.of(total(l) / Math.max(count, 1)),
          ([l]) => op.softcapCrossEntropy(l, targets, V, 15, 'mean'), { scale: 20 });
      }
    });

    await t.test('a composite: gradients of a value used twice add up', () => {
      checkGrad('x*x + x', [[6]], ([x]) => x.map((v) => v * v + v), ([x]) => op.add(op.mul(x, x), x));
    });
  });
}

test('a tensor read after its arena was reset is an error, not garbage', () => {
  setBackend(createBackend('ref'));
  const x = op.scale(Tensor.from([1, 2, 3], [3]), 2);
  assert.deepEqual(Array.from(x.toArray()), [2, 4, 6]);
  arena.reset();
  assert.throws(() => x.toArray(), /arena was reset/);
});
