// Every native kernel against the `ref` oracle on the same random inputs, on every instruction-set
// path this CPU has (avx512, avx2, generic). Shapes include 1, odd and non-multiple-of-16 sizes, and
// sizes large enough to cross the GEMM cache blocks (KC = 256 with a 48 KiB L1d, else 128; MC = 192, NC = 4096)
// and to be split across threads (>= 128 Ki elements). Errors are measured as max |native - ref| / max |ref|.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeBackend, NativeBackend } from '../../src/tensor/native.js';
import { RefBackend } from '../../src/tensor/ref.js';
import type { AttentionShape, MatmulParams } from '../../src/tensor/backend.js';
import { eachIsa } from '../helpers/backends.js';
import { spawnSync } from 'node:child_process';

const loaded = loadNativeBackend();
const nb = 'backend' in loaded ? (loaded.backend as NativeBackend) : undefined;
const skipWhy = 'error' in loaded ? `native addon not built: ${loaded.error}` : '';
const ref = new RefBackend();

// deterministic inputs (xorshift) so a failure reproduces
let seed = 12345;
function rand(): number {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const rnd = (n: number, scale = 1) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale; return a; };

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let e = 0, m = 1e-30;
  for (let i = 0; i < want.length; i++) {
    assert.ok(Number.isFinite(got[i]), `non-finite value at ${i}: ${got[i]}`);
    e = Math.max(e, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return e / m;
}
function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  const e = relErr(got, want);
  assert.ok(e <= tol, `${what}: max error ${e.toExponential(2)} relative to max |ref| exceeds ${tol}`);
}

const SIZES = [1, 3, 17, 33, 64, 129];

test('native: loads and reports its threads and instruction set', (t) => {
  if (!nb) return t.skip(skipWhy);
  assert.equal(nb.name, 'native');
  assert.ok(nb.threads >= 1);
  assert.match(nb.isa, /^(avx512|avx2|generic)$/);
});

test('native: matmul matches ref for all transA/transB/accumulate combinations (tol 1e-5 of max |ref|)', (t) => {
  if (!nb) return t.skip(skipWhy);
  // every M, N, K from SIZES appears in each position; plus blocking-crossing shapes
  const shapes: number[][] = [];
  for (let i = 0; i < SIZES.length; i++) for (let j = 0; j < SIZES.length; j++) shapes.push([SIZES[i], SIZES[j], SIZES[(i + 2 * j) % SIZES.length]]);
  shapes.push([1, 1, 1], [129, 129, 129], [200, 70, 600], [5, 4100, 3]);
  // the AVX2 tile runs rows 0-5 and 6-7 separately: tails of 6 and 7 rows, 16 and 20 columns
  shapes.push([6, 16, 5], [14, 48, 9], [30, 20, 300], [15, 36, 7]);
  eachIsa(nb!, (isa) => {
    for (const [M, N, K] of shapes) for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
      if (isa !== 'avx512' && M * N * K > 100000 && (transA || accumulate)) continue; // keep runtime down
      const a = rnd(M * K), b = rnd(K * N), c = rnd(M * N), c2 = c.slice();
      const p: MatmulParams = { batch: 1, M, N, K, transA, transB, accumulate };
      nb.matmul(a, b, c, p);
      ref.matmul(a, b, c2, p);
      close(c, c2, 1e-5, `${isa} matmul M=${M} N=${N} K=${K} tA=${transA} tB=${transB} acc=${accumulate}`);
    }
  });
});

test('native: large matmul crossing every cache block and both threads (tol 1e-5)', (t) => {
  if (!nb) return t.skip(skipWhy);
  // 400 x 300 x 700: 3 row blocks (MC 192) through 3 depth slices (KC 256) of op(B) packed whole (the deep path);
  // 20 x 2100 x 1100: op(B) packed is 9.5 MB, over the 8 MiB that is packed whole, so it goes slice by slice;
  for (const [M, N, K, transA, transB] of [[400, 300, 700, false, false], [400, 300, 700, true, false], [400, 300, 700, false, true],
    [20, 2100, 1100, false, false], [20, 2100, 1100, true, true],
    // 5 depth slices, one pack task each (whole rows of op(B)), 64-row blocks
    [100, 70, 1100, true, false], [100, 70, 1100, false, true]] as const) {
    const a = rnd(M * K), b = rnd(K * N), c = rnd(M * N), c2 = c.slice();
    const p: MatmulParams = { batch: 1, M, N, K, transA, transB, accumulate: true };
    nb.matmul(a, b, c, p);
    ref.matmul(a, b, c2, p);
    close(c, c2, 1e-5, `matmul ${M}x${N}x${K} tA=${transA} tB=${transB}`);
  }
});

test('native: symmetric matmul (Muon\'s X X^T and A A) = the whole product, f32 every ISA and bf16 (tol 1e-5)', (t) => {
  if (!nb) return t.skip(skipWhy);
  const sym = (n: number): Float32Array => {
    const a = rnd(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i];
    return a;
  };
  // r x r from X [r, c] X^T, and r x r A A with A symmetric; 600 crosses the 64-row blocks, the 192-row MC and
  // the deep depth; accumulate onto a symmetric C
  const cases: [number, number][] = [[1, 5], [7, 33], [40, 300], [200, 64], [600, 700]];
  const run = (isa: string, bf16: boolean) => {
    for (const [r, c] of cases) for (const accumulate of [false, true]) {
      const X = rnd(r * c), A = sym(r);
      for (const [a, b, K, transB] of [[X, X, c, true], [A, A, r, false]] as const) {
        const C = accumulate ? sym(r) : rnd(r * r), want = C.slice();
        const p: MatmulParams = { batch: 1, M: r, N: r, K, transA: false, transB, accumulate, bf16 };
        (bf16 ? nb! : ref).matmul(a, b, want, p);  // bf16: the full native product is the reference (bf16.test.ts checks it)
        nb.matmul(a, b, C, { ...p, symmetric: true });
        close(C, want, 1e-5, `${isa}${bf16 ? ' bf16' : ''} symmetric r=${r} K=${K} tB=${transB} acc=${accumulate}`);
        for (let i = 0; i < r; i++) for (let j = 0; j < i; j++) assert.equal(C[i * r + j], C[j * r + i], 'not mirrored');
      }
    }
  };
  eachIsa(nb, (isa) => run(isa, false));
  if (nb.hasBf16Matmul()) run('avx512', true);
  // the flag is used, not ignored: on a product that is not symmetric the lower triangle is the upper mirrored
  const M = 300, K = 50, a = rnd(M * K), b = rnd(K * M), C = new Float32Array(M * M), full = new Float32Array(M * M);
  nb.matmul(a, b, full, { batch: 1, M, N: M, K, transA: false, transB: false, accumulate: false });
  nb.matmul(a, b, C, { batch: 1, M, N: M, K, transA: false, transB: false, accumulate: false, symmetric: true });
  assert.equal(C[5 * M + 290], full[5 * M + 290], 'the upper triangle is the product');
  assert.equal(C[290 * M + 5], full[5 * M + 290], 'the lower triangle is the upper mirrored');
  assert.notEqual(C[290 * M + 5], full[290 * M + 5]);
});

test('native: the GEMM depth block follows the L1 data cache, and NANOCHAT_GEMM_KC overrides it (a bad value is ignored)', (t) => {
  if (!nb) return t.skip(skipWhy);
  const mod = new URL('../../src/tensor/native.js', import.meta.url).href;
  const kc = (env: Record<string, string>): number => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e',
      `const m = await import(${JSON.stringify(mod)}); const l = m.loadNativeBackend(); console.log(l.backend.gemmKc)`],
    { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout.trim());
  };
  const l1 = spawnSync('getconf', ['LEVEL1_DCACHE_SIZE'], { encoding: 'utf8' });
  const bytes = Number(l1.stdout);
  const want = l1.status === 0 && bytes > 0 && bytes < 48 * 1024 ? 128 : 256;
  assert.equal(kc({ NANOCHAT_GEMM_KC: '' }), want, `L1d ${l1.stdout.trim()} bytes`);
  assert.equal(kc({ NANOCHAT_GEMM_KC: '128' }), 128);
  assert.equal(kc({ NANOCHAT_GEMM_KC: '100' }), want, 'not a multiple of 8: ignored');
  assert.equal(kc({ NANOCHAT_GEMM_KC: '4096' }), want, 'out of range: ignored');
});

test('native: skinny matmul (M <= 4, NT up to 8: the unpacked decode path) split across threads, every ISA (tol 1e-5)', (t) => {
  if (!nb) return t.skip(skipWhy);
  eachIsa(nb!, (isa) => {
    for (const M of [1, 2, 3, 4, 5, 7, 8, 9]) for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
      // N not a multiple of the 4-column block, K not a multiple of the 16-wide partial sums
      for (const [N, K] of [[3001, 301], [7, 16]]) {
        const a = rnd(M * K), b = rnd(K * N), c = rnd(M * N), c2 = c.slice();
        const p: MatmulParams = { batch: 1, M, N, K, transA, transB, accumulate };
        nb.matmul(a, b, c, p);
        ref.matmul(a, b, c2, p);
        close(c, c2, 1e-5, `${isa} skinny matmul M=${M} N=${N} K=${K} tA=${transA} tB=${transB} acc=${accumulate}`);
      }
    }
  });
});

test('native: batched matmul with broadcast (stride 0) and padded strides (tol 1e-5)', (t) => {
  if (!nb) return t.skip(skipWhy);
  for (const batch of [3, 6]) for (const [sA0, sB0] of [[true, false], [false, true], [false, false]]) {
    const M = 17, N = 33, K = 9;
    const strideA = sA0 ? 0 : M * K + 5, strideB = sB0 ? 0 : K * N + 3, strideC = M * N + 7;
    const a = rnd(sA0 ? M * K : batch * strideA), b = rnd(sB0 ? K * N : batch * strideB);
    const c = rnd(batch * strideC), c2 = c.slice();
    const p: MatmulParams = { batch, M, N, K, transA: false, transB: true, accumulate: false, strideA, strideB, strideC };
    nb.matmul(a, b, c, p);
    ref.matmul(a, b, c2, p);
    close(c, c2, 1e-5, `batched matmul batch=${batch} strideA=${strideA} strideB=${strideB}`);
  }
});

test('native: typed-array views with a byte offset are honoured; short buffers throw', (t) => {
  if (!nb) return t.skip(skipWhy);
  const M = 5, N = 7, K = 3;
  const big = rnd(100 + M * K), a = big.subarray(100), b = rnd(K * N), c = new Float32Array(M * N), c2 = c.slice();
  const p: MatmulParams = { batch: 1, M, N, K, transA: false, transB: false, accumulate: false };
  nb.matmul(a, b, c, p);
  ref.matmul(a, b, c2, p);
  close(c, c2, 1e-6, 'matmul on a subarray view');
  assert.throws(() => nb.matmul(rnd(M * K - 1), b, c, p), /too short/);
  assert.throws(() => nb.matmul(a, b, new Float32Array(M * N - 1), p), /too short/);
  assert.throws(() => nb.add(rnd(3), rnd(3), new Float32Array(2), 3, false), /too short/);
  assert.throws(() => nb.embeddingForward(rnd(20), new Int32Array([0, 5]), new Float32Array(8), 2, 4), /outside/);
  assert.throws(() => nb.crossEntropyForward(rnd(8), new Int32Array([0, 4]), new Float32Array(2), new Float32Array(2), 2, 4, 4), /outside/);
  const s: AttentionShape = { B: 1, Tq: 4, Tk: 4, H: 2, Hkv: 2, D: 8, scale: 0.3 };
  assert.throws(() => nb.attentionForward(rnd(64), rnd(63), rnd(64), new Float32Array(64), new Float32Array(8), s), /too short/);
});

test('native: elementwise kernels and reductions match ref (tol 1e-6; sums 1e-6 relative to sum |x|)', (t) => {
  if (!nb) return t.skip(skipWhy);
  eachIsa(nb!, (isa) => {
    for (const n of [1, 17, 1000, 200003]) {
      const a = rnd(n), b = rnd(n), o0 = rnd(n);
      for (const acc of [false, true]) {
        for (const op of ['add', 'mul'] as const) {
          const o1 = o0.slice(), o2 = o0.slice();
          nb[op](a, b, o1, n, acc); ref[op](a, b, o2, n, acc);
          close(o1, o2, 1e-6, `${isa} ${op} n=${n} acc=${acc}`);
        }
        const o1 = o0.slice(), o2 = o0.slice();
        nb.scale(a, -0.37, o1, n, acc); ref.scale(a, -0.37, o2, n, acc);
        close(o1, o2, 1e-6, `${isa} scale n=${n} acc=${acc}`);
        const d1 = o0.slice(), d2 = o0.slice();
        nb.reluSquaredBackward(a, b, d1, n, acc); ref.reluSquaredBackward(a, b, d2, n, acc);
        close(d1, d2, 1e-6, `${isa} reluSquaredBackward n=${n} acc=${acc}`);
        const y = rnd(n, 14), e1 = o0.slice(), e2 = o0.slice();
        nb.softcapBackward(a, y, e1, n, 15, acc); ref.softcapBackward(a, y, e2, n, 15, acc);
        close(e1, e2, 1e-6, `${isa} softcapBackward n=${n} acc=${acc}`);
      }
      const l1 = o0.slice(), l2 = o0.slice();
      nb.lerp(l1, a, 0.1, n); ref.lerp(l2, a, 0.1, n);
      close(l1, l2, 1e-6, `${isa} lerp n=${n}`);
      const f = new Float32Array(n), g = new Float32Array(n);
      nb.fill(f, 2.5, n); ref.fill(g, 2.5, n);
      close(f, g, 0, `${isa} fill n=${n}`);
      nb.copy(a, f, n);
      close(f, a, 0, `${isa} copy n=${n}`);
      let sabs = 0;
      for (let i = 0; i < n; i++) sabs += Math.abs(a[i]);
      assert.ok(Math.abs(nb.hostSum(a, n) - ref.hostSum(a, n)) <= 1e-6 * sabs, `${isa} sum n=${n}`);
      const sq = ref.hostSumSquares(a, n);
      assert.ok(Math.abs(nb.hostSumSquares(a, n) - sq) <= 1e-6 * sq, `${isa} sumSquares n=${n}`);
      const r1 = new Float32Array(n), r2 = new Float32Array(n);
      nb.reluSquaredForward(a, r1, n); ref.reluSquaredForward(a, r2, n);
      close(r1, r2, 1e-6, `${isa} reluSquaredForward n=${n}`);
      const x = rnd(n, 40);
      nb.softcapForward(x, r1, n, 15); ref.softcapForward(x, r2, n, 15);
      close(r1, r2, 1e-6, `${isa} softcapForward n=${n}`);
      const small = rnd(n, 1e-3);
      nb.softcapForward(small, r1, n, 15); ref.softcapForward(small, r2, n, 15);
      close(r1, r2, 1e-6, `${isa} softcapForward near 0, n=${n}`);
    }
  });
});

test('native: transpose and embedding match ref (exact)', (t) => {
  if (!nb) return t.skip(skipWhy);
  for (const [r, c] of [[1, 1], [3, 17], [129, 33], [400, 700]]) {
    const x = rnd(r * c), y1 = new Float32Array(r * c), y2 = new Float32Array(r * c);
    nb.transpose(x, y1, r, c); ref.transpose(x, y2, r, c);
    close(y1, y2, 0, `transpose ${r}x${c}`);
  }
  for (const [V, n, dim] of [[5, 1, 1], [50, 37, 33], [300, 2000, 128]]) {
    const table = rnd(V * dim), ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = Math.floor(rand() * V);
    const o1 = new Float32Array(n * dim), o2 = new Float32Array(n * dim);
    nb.embeddingForward(table, ids, o1, n, dim); ref.embeddingForward(table, ids, o2, n, dim);
    close(o1, o2, 0, `embeddingForward V=${V} n=${n} dim=${dim}`);
    const dout = rnd(n * dim), d1 = rnd(V * dim), d2 = d1.slice();
    nb.embeddingBackward(dout, ids, d1, n, dim); ref.embeddingBackward(dout, ids, d2, n, dim);
    close(d1, d2, 1e-6, `embeddingBackward V=${V} n=${n} dim=${dim} (tol 1e-6)`);
  }
});

test('native: rmsnorm, rope, adamw match ref (tol 1e-5)', (t) => {
  if (!nb) return t.skip(skipWhy);
  eachIsa(nb!, (isa) => {
    // (dim = 1 is left out: there y = +-1 is constant, the true gradient is ~0 and any rounding is 100% of it)
    for (const [rows, dim] of [[1, 2], [3, 17], [37, 129], [300, 512]]) {
      const x = rnd(rows * dim, 3), y1 = new Float32Array(rows * dim), y2 = y1.slice(), s1 = new Float32Array(rows), s2 = s1.slice();
      nb.rmsnormForward(x, y1, s1, rows, dim, 1.1920929e-7); ref.rmsnormForward(x, y2, s2, rows, dim, 1.1920929e-7);
      close(y1, y2, 1e-5, `${isa} rmsnormForward ${rows}x${dim}`);
      close(s1, s2, 1e-5, `${isa} rmsnorm rstd ${rows}x${dim}`);
      for (const acc of [false, true]) {
        const dy = rnd(rows * dim), d1 = rnd(rows * dim), d2 = d1.slice();
        nb.rmsnormBackward(dy, y2, s2, d1, rows, dim, acc); ref.rmsnormBackward(dy, y2, s2, d2, rows, dim, acc);
        close(d1, d2, 1e-5, `${isa} rmsnormBackward ${rows}x${dim} acc=${acc}`);
      }
    }
    for (const [B, T, H, D, pos0] of [[1, 1, 1, 2, 0], [2, 5, 3, 18, 3], [2, 64, 4, 128, 0]]) {
      const half = D / 2, P = pos0 + T + 2, cos = new Float32Array(P * half), sin = new Float32Array(P * half);
      for (let p = 0; p < P; p++) for (let i = 0; i < half; i++) { const a = p * Math.pow(10000, -2 * i / D); cos[p * half + i] = Math.cos(a); sin[p * half + i] = Math.sin(a); }
      const x = rnd(B * T * H * D);
      for (const inverse of [false, true]) for (const acc of [false, true]) {
        const y1 = rnd(x.length), y2 = y1.slice();
        const params = { B, T, H, D, pos0, inverse, accumulate: acc };
        nb.rope(x, y1, cos, sin, params); ref.rope(x, y2, cos, sin, params);
        close(y1, y2, 1e-6, `${isa} rope B=${B} T=${T} H=${H} D=${D} pos0=${pos0} inverse=${inverse} acc=${acc}`);
      }
    }
    for (const n of [1, 33, 200003]) {
      const p1 = rnd(n), g = rnd(n), m1 = rnd(n, 0.1), v1 = rnd(n, 0.1).map(Math.abs);
      const p2 = p1.slice(), m2 = m1.slice(), v2 = v1.slice();
      nb.adamwStep(p1, g, m1, v1, n, 1e-2, 0.9, 0.95, 1e-8, 0.1, 7);
      ref.adamwStep(p2, g, m2, v2, n, 1e-2, 0.9, 0.95, 1e-8, 0.1, 7);
      close(p1, p2, 1e-5, `${isa} adamw param n=${n}`);
      close(m1, m2, 1e-5, `${isa} adamw m n=${n}`);
      close(v1, v2, 1e-5, `${isa} adamw v n=${n}`);
    }
  });
});

test('native: cross-entropy with ignored rows and a padded row stride (tol 1e-5)', (t) => {
  if (!nb) return t.skip(skipWhy);
  eachIsa(nb!, (isa) => {
    for (const [rows, V, stride] of [[1, 1, 1], [7, 17, 24], [64, 1000, 1024], [5, 8192, 8192]]) {
      const logits = rnd(rows * stride, 20), targets = new Int32Array(rows);
      for (let r = 0; r < rows; r++) targets[r] = r % 3 === 1 ? -1 : Math.floor(rand() * V);
      if (rows > 2) logits[stride + 1] = 80; // a large logit: needs the max subtracted before exp
      const l1 = new Float32Array(rows), l2 = l1.slice(), s1 = l1.slice(), s2 = l1.slice();
      nb.crossEntropyForward(logits, targets, l1, s1, rows, V, stride); ref.crossEntropyForward(logits, targets, l2, s2, rows, V, stride);
      close(l1, l2, 1e-5, `${isa} crossEntropyForward losses rows=${rows} V=${V} stride=${stride}`);
      close(s1, s2, 1e-5, `${isa} crossEntropyForward lse rows=${rows} V=${V} stride=${stride}`);
      const dloss = rnd(rows), g1 = rnd(rows * stride), g2 = rnd(rows * stride);
      nb.crossEntropyBackward(logits, targets, s2, dloss, g1, rows, V, stride); ref.crossEntropyBackward(logits, targets, s2, dloss, g2, rows, V, stride);
      close(g1, g2, 1e-5, `${isa} crossEntropyBackward rows=${rows} V=${V} stride=${stride}`);
    }
  });
});

test('native: fused causal attention forward and backward, GQA and KV-cache shapes (tol 1e-4)', (t) => {
  if (!nb) return t.skip(skipWhy);
  const shapes: (AttentionShape & { label: string })[] = [
    { label: 'single position', B: 1, Tq: 1, Tk: 1, H: 1, Hkv: 1, D: 8, scale: 0.35 },
    { label: 'GQA H=4 Hkv=2, T=70', B: 2, Tq: 70, Tk: 70, H: 4, Hkv: 2, D: 16, scale: 0.25 },
    { label: 'Tq<Tk with kvBatchStride', B: 2, Tq: 5, Tk: 133, H: 2, Hkv: 1, D: 40, scale: 1 / Math.sqrt(40), kvBatchStride: 200 * 1 * 40 },
    { label: 'Tq<Tk across blocks', B: 1, Tq: 67, Tk: 150, H: 2, Hkv: 2, D: 24, scale: 0.2 },
    { label: 'D=128, T=130', B: 1, Tq: 130, Tk: 130, H: 2, Hkv: 1, D: 128, scale: 1 / Math.sqrt(128) },
    // decoding, one query row (its own unpacked kernel): GQA, a padded cache, D not a multiple of 16
    { label: 'decode row GQA, Tk=300, kvBatchStride', B: 3, Tq: 1, Tk: 300, H: 4, Hkv: 2, D: 40, scale: 1 / Math.sqrt(40), kvBatchStride: 310 * 2 * 40 },
    { label: 'decode row D=64, Tk=2', B: 1, Tq: 1, Tk: 2, H: 2, Hkv: 2, D: 64, scale: 0.125 },
  ];
  eachIsa(nb!, (isa) => {
    for (const s of shapes) {
      if (isa !== 'avx512' && s.D === 128) continue;
      const { B, Tq, Tk, H, Hkv, D } = s;
      const kvs = s.kvBatchStride ?? Tk * Hkv * D;
      const q = rnd(B * Tq * H * D, 2), k = rnd(B * kvs, 2), v = rnd(B * kvs);
      const o1 = new Float32Array(B * Tq * H * D), o2 = o1.slice(), l1 = new Float32Array(B * H * Tq), l2 = l1.slice();
      nb.attentionForward(q, k, v, o1, l1, s); ref.attentionForward(q, k, v, o2, l2, s);
      close(o1, o2, 1e-4, `${isa} attentionForward out (${s.label})`);
      close(l1, l2, 1e-4, `${isa} attentionForward lse (${s.label})`);
      const dout = rnd(o1.length), dq1 = rnd(q.length), dk1 = rnd(k.length), dv1 = rnd(v.length);
      const dq2 = dq1.slice(), dk2 = dk1.slice(), dv2 = dv1.slice();
      nb.attentionBackward(dout, q, k, v, o2, l2, dq1, dk1, dv1, s); ref.attentionBackward(dout, q, k, v, o2, l2, dq2, dk2, dv2, s);
      close(dq1, dq2, 1e-4, `${isa} attentionBackward dq (${s.label})`);
      close(dk1, dk2, 1e-4, `${isa} attentionBackward dk (${s.label})`);
      close(dv1, dv2, 1e-4, `${isa} attentionBackward dv (${s.label})`);
    }
  });
});

test('native: attention is numerically safe with large scores (online max, tol 1e-4)', (t) => {
  if (!nb) return t.skip(skipWhy);
  const s: AttentionShape = { B: 1, Tq: 40, Tk: 40, H: 1, Hkv: 1, D: 8, scale: 1 };
  const q = rnd(40 * 8, 30), k = rnd(40 * 8, 30), v = rnd(40 * 8);
  const o1 = new Float32Array(320), o2 = o1.slice(), l1 = new Float32Array(40), l2 = l1.slice();
  nb.attentionForward(q, k, v, o1, l1, s); ref.attentionForward(q, k, v, o2, l2, s);
  close(o1, o2, 1e-4, 'attention with scores up to ~7000');
  close(l1, l2, 1e-4, 'attention lse with scores up to ~7000');
});
