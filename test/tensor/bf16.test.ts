// The bf16 matmul (native/gemm_bf16.c on AVX512_BF16): its pack step rounds exactly like roundToBf16, and its
// products equal a float64 loop over the bf16-rounded inputs within f32 accumulation error, for odd shapes,
// both transposes, accumulate, batches, and sizes that cross the cache blocks (KC = 512, MC = 192, NC = 4096)
// and the threads. Off the avx512 table (avx2, generic) it is absent: hasBf16Matmul() false, calls throw,
// and the --dtype reader falls back to f32 and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeBackend, NativeBackend } from '../../src/tensor/native.js';
import { RefBackend } from '../../src/tensor/ref.js';
import { roundArrayToBf16, roundToBf16 } from '../../src/tensor/bf16.js';
import type { MatmulParams } from '../../src/tensor/backend.js';
import { resolveDtype } from '../../src/cli/dtype.js';
import { Tensor, arena, hostData } from '../../src/tensor/tensor.js';
import * as op from '../../src/tensor/ops.js';
import { getBackend, setBackend } from '../../src/tensor/backends.js';
import { setMatmulPrecision } from '../../src/tensor/precision.js';

const loaded = loadNativeBackend();
const nb = 'backend' in loaded ? (loaded.backend as NativeBackend) : undefined;
const hw = nb?.hasBf16Matmul() ?? false;
const skipWhy = !nb ? 'native addon not built' : !hw ? `no bf16 matmul here: ${nb.bf16Unavailable()}` : '';
const ref = new RefBackend();

let seed = 777;
function rand(): number {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const rnd = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);

/**
 * C = op(A) op(B) (+ C) in float64 over the bf16-rounded inputs, and per element the scale of its sum,
 * sum_k |a_ik b_kj| (+ |C_ij|): f32 accumulation of K terms errs by at most ~K * 2^-24 of that scale.
 */
function oracle(a: Float32Array, b: Float32Array, c0: Float32Array, p: MatmulParams): { want: Float64Array; scale: Float64Array } {
  const { batch, M, N, K, transA, transB, accumulate } = p;
  const sA = p.strideA ?? M * K, sB = p.strideB ?? K * N, sC = p.strideC ?? M * N;
  const ra = roundArrayToBf16(a), rb = roundArrayToBf16(b);
  const want = new Float64Array(c0.length), scale = new Float64Array(c0.length);
  for (let i = 0; i < c0.length; i++) if (accumulate) { want[i] = c0[i]; scale[i] = Math.abs(c0[i]); }
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0, m = 0;
        for (let k = 0; k < K; k++) {
          const x = (transA ? ra[t * sA + k * M + i] : ra[t * sA + i * K + k]) * (transB ? rb[t * sB + j * K + k] : rb[t * sB + k * N + j]);
          s += x; m += Math.abs(x);
        }
        const o = t * sC + i * N + j;
        want[o] = (accumulate ? want[o] : 0) + s;
        scale[o] = (accumulate ? scale[o] : 0) + m;
      }
  return { want, scale };
}

/** The largest |got - want| / (scale + 1e-30) over the elements. */
function worst(got: Float32Array, o: { want: Float64Array; scale: Float64Array }): number {
  let e = 0;
  for (let i = 0; i < got.length; i++) {
    assert.ok(Number.isFinite(got[i]), `non-finite value at ${i}: ${got[i]}`);
    e = Math.max(e, Math.abs(got[i] - o.want[i]) / (o.scale[i] + 1e-30));
  }
  return e;
}

const TOL = 1e-5; // of sum_k |a b|: K <= 1100 f32 additions of random sign stay two orders below this

test('roundToBf16: nearest with ties to even, signed zeros for denormals, NaN and infinity kept', () => {
  assert.equal(roundToBf16(1), 1);
  assert.equal(roundToBf16(1 + 2 ** -8), 1); // a tie: to the even mantissa (…0)
  assert.equal(roundToBf16(1 + 3 * 2 ** -8), 1 + 2 ** -6); // a tie: to the even mantissa (…10)
  assert.equal(roundToBf16(1 + 2 ** -8 + 2 ** -20), 1 + 2 ** -7); // above the tie: up
  assert.equal(roundToBf16(-3.14159), -3.140625);
  assert.ok(Object.is(roundToBf16(-1e-40), -0) && Object.is(roundToBf16(1e-40), 0));
  assert.ok(Number.isNaN(roundToBf16(NaN)));
  assert.equal(roundToBf16(Infinity), Infinity);
  assert.equal(roundToBf16(3.4e38), Infinity); // the largest floats round past the largest bf16
});

test('bf16 pack rounds bit for bit like roundToBf16 (op(A) times a column of ones, K = 1), both transposes', (t) => {
  if (!hw) return t.skip(skipWhy);
  // ties, values just either side of them, denormals, large and small magnitudes
  const vals: number[] = [];
  for (let i = 0; i < 300; i++) {
    const base = (rand() * 2 - 1) * 2 ** Math.floor(rand() * 40 - 20);
    vals.push(base, roundToBf16(base) + (roundToBf16(base) === 0 ? 0 : 2 ** (Math.floor(Math.log2(Math.abs(base))) - 8)));
  }
  vals.push(1e-40, -1e-40, 0, -0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 65504, -2.5e38);
  const M = vals.length, a = Float32Array.from(vals);
  for (const transA of [false, true]) for (const transB of [false, true]) {
    const c = new Float32Array(M);
    nb!.matmul(a, new Float32Array([1]), c, { batch: 1, M, N: 1, K: 1, transA, transB, accumulate: false, bf16: true });
    for (let i = 0; i < M; i++) {
      assert.ok(Object.is(c[i], roundToBf16(a[i])) || (c[i] === 0 && roundToBf16(a[i]) === 0),
        `tA=${transA} tB=${transB}: ${a[i]} packed to ${c[i]}, roundToBf16 gives ${roundToBf16(a[i])}`);
    }
  }
});

test(`bf16 matmul = f64 over bf16-rounded inputs (tol 1e-5 of sum |a b|), M, N, K in 1, 7, 33, 129, transposes, accumulate`, (t) => {
  if (!hw) return t.skip(skipWhy);
  const S = [1, 7, 33, 129];
  for (const M of S) for (const N of S) for (const K of S)
    for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
      const a = rnd(M * K), b = rnd(K * N), c = rnd(M * N);
      const p: MatmulParams = { batch: 1, M, N, K, transA, transB, accumulate, bf16: true };
      const o = oracle(a, b, c, p);
      nb!.matmul(a, b, c, p);
      const e = worst(c, o);
      assert.ok(e <= TOL, `M=${M} N=${N} K=${K} tA=${transA} tB=${transB} acc=${accumulate}: error ${e.toExponential(2)} of sum |a b|`);
    }
});

test('bf16 matmul across the cache blocks and both threads, and batched with broadcast strides', (t) => {
  if (!hw) return t.skip(skipWhy);
  const cases: MatmulParams[] = [
    // 3 depth blocks, odd K, op(B) packed whole (the deep path)
    { batch: 1, M: 200, N: 70, K: 1100, transA: false, transB: true, accumulate: false },
    // op(B) packed would be 8.8 MB, over the 8 MiB packed whole: 3 depth blocks one at a time
    { batch: 1, M: 9, N: 4000, K: 1100, transA: true, transB: false, accumulate: true },
    // 5 depth blocks packed one task each, short M in 64-row blocks
    { batch: 1, M: 150, N: 40, K: 2100, transA: true, transB: false, accumulate: false },
    { batch: 1, M: 385, N: 300, K: 513, transA: true, transB: false, accumulate: true }, // 3 row blocks, threads
    { batch: 1, M: 9, N: 4100, K: 5, transA: false, transB: false, accumulate: false }, // 2 column blocks
    { batch: 3, M: 17, N: 40, K: 31, transA: false, transB: true, accumulate: false, strideA: 0, strideB: 40 * 31 + 5 },
  ];
  for (const p of cases) {
    const nA = (p.batch - 1) * (p.strideA ?? p.M * p.K) + p.M * p.K, nB = (p.batch - 1) * (p.strideB ?? p.K * p.N) + p.K * p.N;
    const a = rnd(nA), b = rnd(nB), c = rnd(p.batch * p.M * p.N);
    const q = { ...p, bf16: true }, o = oracle(a, b, c, q);
    nb!.matmul(a, b, c, q);
    const e = worst(c, o);
    assert.ok(e <= TOL, `${JSON.stringify(p)}: error ${e.toExponential(2)} of sum |a b|`);
  }
});

test('the bf16 check can fail: an f32 product misses the bf16 oracle by far more than the tolerance', (t) => {
  if (!nb) return t.skip('native addon not built');
  const M = 33, N = 33, K = 129, a = rnd(M * K), b = rnd(K * N), c = new Float32Array(M * N);
  const p: MatmulParams = { batch: 1, M, N, K, transA: false, transB: false, accumulate: false };
  const o = oracle(a, b, c, { ...p, bf16: true });
  nb.matmul(a, b, c, p); // f32: unrounded inputs
  assert.ok(worst(c, o) > 10 * TOL, `f32 product within ${worst(c, o).toExponential(2)} of the bf16 oracle`);
});

test('ref emulates the bf16 matmul: the same oracle (tol 1e-7: f64 sums, one f32 rounding)', () => {
  for (const [M, N, K] of [[7, 33, 129], [1, 1, 1], [33, 7, 2]]) for (const transA of [false, true]) for (const transB of [false, true]) {
    const a = rnd(M * K), b = rnd(K * N), c = rnd(M * N);
    const p: MatmulParams = { batch: 1, M, N, K, transA, transB, accumulate: true, bf16: true };
    const o = oracle(a, b, c, p);
    ref.matmul(a, b, c, p);
    assert.ok(worst(c, o) <= 1e-7, `ref M=${M} N=${N} K=${K}: ${worst(c, o)}`); // f32 output rounding only
  }
});

test('linear at bf16 precision: forward and both backward products round (native = ref emulation, tol 1e-5; != f32)', (t) => {
  if (!hw) return t.skip(skipWhy);
  const before = getBackend();
  const x0 = rnd(37 * 65), w0 = rnd(29 * 65), dy = rnd(37 * 29);
  /** y, dx, dW of y = x W^T with the loss sum(y * dy), on one backend at one precision */
  const run = (be: typeof before, precision: 'bf16' | 'f32') => {
    setBackend(be);
    setMatmulPrecision(precision);
    const x = Tensor.parameter([37, 65]), w = Tensor.parameter([29, 65]);
    hostData(x.data).set(x0); hostData(w.data).set(w0);
    const y = op.linear(x, w);
    const out = [y.toArray()];
    op.sum(op.mul(y, Tensor.from(dy, [37, 29]))).backward();
    out.push(hostData(x.grad!).slice(), hostData(w.grad!).slice());
    arena.reset();
    return out;
  };
  try {
    const [n, r, f] = [run(nb!, 'bf16'), run(ref, 'bf16'), run(ref, 'f32')];
    ['y', 'dx', 'dW'].forEach((name, i) => {
      let e = 0, ef = 0, m = 1e-30;
      for (let j = 0; j < r[i].length; j++) { e = Math.max(e, Math.abs(n[i][j] - r[i][j])); ef = Math.max(ef, Math.abs(f[i][j] - r[i][j])); m = Math.max(m, Math.abs(r[i][j])); }
      assert.ok(e / m <= 1e-5, `${name}: native bf16 vs ref bf16 ${(e / m).toExponential(2)} of max |ref|`);
      assert.ok(ef / m > 1e-4, `${name}: f32 as close to bf16 as ${(ef / m).toExponential(2)}: the product did not round`);
    });
  } finally {
    setMatmulPrecision('f32');
    setBackend(before);
  }
});

test('off the avx512 table the bf16 matmul is absent: calls throw, --dtype bf16 refuses, the default is f32', (t) => {
  if (!nb) return t.skip('native addon not built');
  try {
    for (const isa of ['avx2', 'generic'] as const) {
      if (nb.setIsa(isa) !== isa) continue;
      assert.equal(nb.hasBf16Matmul(), false, `${isa}: hasBf16Matmul`);
      const p: MatmulParams = { batch: 1, M: 9, N: 9, K: 9, transA: false, transB: false, accumulate: false, bf16: true };
      assert.throws(() => nb.matmul(rnd(81), rnd(81), new Float32Array(81), p), /AVX512_BF16/);
      const d = resolveDtype(undefined, nb);
      assert.equal(d.precision, 'f32');
      assert.match(d.line, new RegExp(`f32 \\(bf16 unavailable: the ${isa} kernels`));
      assert.throws(() => resolveDtype('bf16', nb), /--dtype bf16 needs a CPU with AVX512_BF16/);
      assert.equal(resolveDtype('f32', nb).precision, 'f32');
    }
  } finally {
    nb.setIsa('auto');
  }
  // and where it runs, it is the default
  const d = resolveDtype(undefined, nb);
  assert.equal(d.precision, hw ? 'bf16' : 'f32', d.line);
  assert.throws(() => resolveDtype('f16', nb), /--dtype must be bf16 or f32/);
  assert.equal(resolveDtype(undefined, ref).precision, 'f32'); // ref never defaults to its emulation
  assert.throws(() => resolveDtype('bf16', ref), /the ref backend/);
});
