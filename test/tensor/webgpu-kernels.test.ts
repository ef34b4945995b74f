// Every kernel of the webgpu backend against `ref` (plain loops, float64 sums) on odd shapes, through Dawn on
// whatever adapter this machine has (on CI Mesa's llvmpipe). Device inputs are views at odd element offsets.
// Tolerances, per kernel, as |got - want| <= abs + rel * scale where scale is stated per check:
//   elementwise, transpose, embedding, AdamW, rope: abs 1e-6, rel 1e-6 of |want| (one float32 rounding apart)
//   matmul: 1e-5 of the largest |C| in the row (float32 sums over K of up to 130 products)
//   softcap, rmsnorm: 1e-5 of |want|; cross-entropy losses and lse 1e-5, gradients 1e-6 absolute
//   attention: forward 2e-5, backward 1e-4 of |want| plus 2e-5 (exp of float32 scores, sums over Tk)
//   sum, normalize, clipGradNorm: 1e-6 of the sum of |x| (compensated float32 partial sums)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RefBackend } from '../../src/tensor/ref.js';
import type { AttentionShape, MatmulParams, RopeParams } from '../../src/tensor/backend.js';
import { seededRng } from '../../src/tensor/random.js';
import { UserError } from '../../src/common/errors.js';
import { Arena } from '../../src/tensor/arena.js';
import { getBackend, setBackend } from '../../src/tensor/backends.js';
import { openNodeWebGpu } from '../../src/tensor/webgpu-node.js';
import type { WebGpuBackend } from '../../src/tensor/webgpu/backend.js';
import type { GpuBuf } from '../../src/tensor/webgpu/buffer.js';
import { isSoftwareAdapter } from '../../src/tensor/webgpu/device.js';
import { testWebGpu, upload } from '../helpers/webgpu.js';

const ref = new RefBackend();
let gpu: WebGpuBackend;
before(async () => { gpu = await testWebGpu(); });
after(() => gpu.destroy());

let seed = 1;
/** n uniform values in [-scale, scale) */
function rand(n: number, scale = 1): Float32Array {
  const r = seededRng(seed++);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
}

/** Asserts |got - want| <= abs + rel * scale(i) everywhere, naming the worst element. */
function close(got: Float32Array, want: Float32Array, what: string, abs: number, rel: number,
  scale: (i: number) => number = i => Math.abs(want[i])): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]), allowed = abs + rel * scale(i);
    if (!(err <= allowed) && (worst < 0 || err - allowed > worstExcess)) { worst = i; worstExcess = err - allowed; }
  }
  if (worst >= 0) assert.fail(`${what}: element ${worst} is ${got[worst]}, want ${want[worst]}`);
}

const SIZES = [1, 7, 33, 129];

test('elementwise kernels, broadcast and transpose match ref', async () => {
  for (const n of SIZES) {
    for (const acc of [false, true]) {
      const a = rand(n), b = rand(n), out = rand(n);
      const ga = upload(gpu, a), gb = upload(gpu, b);
      const cases: [string, (o: Float32Array) => void, (o: GpuBuf) => void][] = [
        ['add', o => ref.add(a, b, o, n, acc), o => gpu.add(ga, gb, o, n, acc)],
        ['mul', o => ref.mul(a, b, o, n, acc), o => gpu.mul(ga, gb, o, n, acc)],
        ['scale', o => ref.scale(a, -1.7, o, n, acc), o => gpu.scale(ga, -1.7, o, n, acc)],
        ['broadcast', o => ref.broadcast(a, o, n, acc), o => gpu.broadcast(ga, o, n, acc)],
        ['reluSquaredBackward', o => ref.reluSquaredBackward(b, a, o, n, acc),
          o => gpu.reluSquaredBackward(gb, ga, o, n, acc)],
        ['softcapBackward', o => ref.softcapBackward(b, a, o, n, 1.5, acc),
          o => gpu.softcapBackward(gb, ga, o, n, 1.5, acc)],
      ];
      for (const [name, onRef, onGpu] of cases) {
        const want = out.slice(), gout = upload(gpu, out);
        onRef(want);
        onGpu(gout);
        close(await gpu.read(gout), want, `${name} n=${n} acc=${acc}`, 1e-6, 1e-6);
      }
    }
    const a = rand(n, 30), b = rand(n);
    const unary: [string, (x: Float32Array, y: Float32Array) => void, (x: GpuBuf, y: GpuBuf) => void, number][] = [
      ['fill', (_x, y) => ref.fill(y, 2.5, n), (_x, y) => gpu.fill(y, 2.5, n), 0],
      ['copy', (x, y) => ref.copy(x, y, n), (x, y) => gpu.copy(x, y, n), 0],
      ['lerp', (x, y) => ref.lerp(y, x, 0.3, n), (x, y) => gpu.lerp(y, x, 0.3, n), 1e-6],
      ['reluSquaredForward', (x, y) => ref.reluSquaredForward(x, y, n),
        (x, y) => gpu.reluSquaredForward(x, y, n), 1e-6],
      ['softcapForward', (x, y) => ref.softcapForward(x, y, n, 15), (x, y) => gpu.softcapForward(x, y, n, 15), 1e-5],
    ];
    for (const [name, onRef, onGpu, rel] of unary) {
      const want = b.slice(), gy = upload(gpu, b);
      onRef(a, want);
      onGpu(upload(gpu, a), gy);
      close(await gpu.read(gy), want, `${name} n=${n}`, 1e-6, rel);
    }
  }
  for (const [rows, cols] of [[1, 1], [7, 33], [129, 7]]) {
    const src = rand(rows * cols), want = new Float32Array(rows * cols), gdst = upload(gpu, want);
    ref.transpose(src, want, rows, cols);
    gpu.transpose(upload(gpu, src), gdst, rows, cols);
    close(await gpu.read(gdst), want, `transpose ${rows}x${cols}`, 0, 0);
  }
});

test('elementwise kernels cover arrays past one grid row of workgroups (65,535 x 128 elements)', async () => {
  const n = 65535 * 128 + 7, a = rand(n), b = rand(n), want = new Float32Array(n);
  ref.add(a, b, want, n, false);
  const out = gpu.alloc(n);
  gpu.add(upload(gpu, a), upload(gpu, b), out, n, false);
  close(await gpu.read(out), want, 'add n=8.4M', 1e-6, 1e-6);
});

test('in-place calls and views of one buffer bind it once (add into its own input)', async () => {
  const n = 33, a = rand(n), b = rand(n), want = a.slice();
  ref.add(want, b, want, n, true);
  const whole = gpu.alloc(3 * n), ga = whole.subarray(5, 5 + n), gb = whole.subarray(2 * n, 3 * n);
  gpu.write(ga, a);
  gpu.write(gb, b);
  gpu.add(ga, gb, ga, n, true);
  close(await gpu.read(ga), want, 'add in place', 1e-6, 1e-6);
});

test('matmul: all four transposes, odd shapes, batches with a broadcast B, accumulate', async () => {
  const shapes = [[1, 1, 1], [7, 33, 129], [129, 7, 33], [33, 129, 7], [65, 70, 130]];
  for (const [M, N, K] of shapes) for (const transA of [false, true]) for (const transB of [false, true]) {
    for (const [batch, strideB, accumulate] of [[1, undefined, false], [3, 0, true]] as const) {
      const p: MatmulParams = { batch, M, N, K, transA, transB, accumulate, strideB };
      const a = rand(batch * M * K), b = rand(batch * K * N), c = rand(batch * M * N);
      const want = c.slice(), gc = upload(gpu, c);
      ref.matmul(a, b, want, p);
      gpu.matmul(upload(gpu, a), upload(gpu, b), gc, p);
      const rowMax = new Float32Array(batch * M);
      for (let i = 0; i < want.length; i++) {
        const r = Math.floor(i / N);
        rowMax[r] = Math.max(rowMax[r], Math.abs(want[i]));
      }
      close(await gpu.read(gc), want, `matmul ${JSON.stringify(p)}`, 1e-7, 1e-5, i => rowMax[Math.floor(i / N)]);
    }
  }
});

test('matmul with explicit strides between batch matrices (C rows of a wider buffer)', async () => {
  const p: MatmulParams = { batch: 2, M: 7, N: 5, K: 9, transA: false, transB: true, accumulate: false,
    strideA: 7 * 9 + 4, strideB: 5 * 9, strideC: 7 * 5 + 11 };
  const a = rand(p.strideA! * 2), b = rand(5 * 9 * 2), c = rand(p.strideC! * 2);
  const want = c.slice(), gc = upload(gpu, c);
  ref.matmul(a, b, want, p);
  gpu.matmul(upload(gpu, a), upload(gpu, b), gc, p);
  close(await gpu.read(gc), want, 'matmul strided', 1e-6, 1e-5);
});

test('rmsnorm forward and backward match ref', async () => {
  for (const rows of [1, 7, 33]) for (const dim of [1, 7, 129, 300]) {
    const x = rand(rows * dim, 3), y = new Float32Array(rows * dim), rstd = new Float32Array(rows);
    ref.rmsnormForward(x, y, rstd, rows, dim, 1e-6);
    const gy = upload(gpu, y), grstd = upload(gpu, rstd);
    gpu.rmsnormForward(upload(gpu, x), gy, grstd, rows, dim, 1e-6);
    close(await gpu.read(gy), y, `rmsnorm y ${rows}x${dim}`, 1e-6, 1e-5);
    close(await gpu.read(grstd), rstd, `rmsnorm rstd ${rows}x${dim}`, 1e-6, 1e-5);
    for (const acc of [false, true]) {
      const dy = rand(rows * dim), dx = rand(rows * dim), want = dx.slice(), gdx = upload(gpu, dx);
      ref.rmsnormBackward(dy, y, rstd, want, rows, dim, acc);
      gpu.rmsnormBackward(upload(gpu, dy), upload(gpu, y), upload(gpu, rstd), gdx, rows, dim, acc);
      close(await gpu.read(gdx), want, `rmsnorm dx ${rows}x${dim} acc=${acc}`, 1e-6, 1e-5);
    }
  }
});

test('row kernels past 65,535 rows (the second grid dimension): rmsnorm and soft-capped cross-entropy', async () => {
  const rows = 65_537, dim = 3, V = 2;
  const x = rand(rows * dim, 3), y = new Float32Array(rows * dim), rstd = new Float32Array(rows);
  ref.rmsnormForward(x, y, rstd, rows, dim, 1e-6);
  const gy = upload(gpu, y), grstd = upload(gpu, rstd);
  gpu.rmsnormForward(upload(gpu, x), gy, grstd, rows, dim, 1e-6);
  close(await gpu.read(gy), y, `rmsnorm y ${rows} rows`, 1e-6, 1e-5);
  const raw = rand(rows * V, 20), targets = Int32Array.from({ length: rows }, (_, i) => (i % 5 === 4 ? -1 : i % V));
  const losses = new Float32Array(rows), lse = new Float32Array(rows);
  ref.softcapCrossEntropyForward(raw, targets, losses, lse, rows, V, V, 15);
  const gl = upload(gpu, losses), glse = upload(gpu, lse);
  gpu.softcapCrossEntropyForward(upload(gpu, raw), targets, gl, glse, rows, V, V, 15);
  close(await gpu.read(gl), losses, `softcap cross-entropy losses ${rows} rows`, 1e-5, 1e-5);
  close(await gpu.read(glse), lse, `softcap cross-entropy lse ${rows} rows`, 1e-5, 1e-5);
});

test('rope matches ref: offsets into the tables, inverse, accumulate, host or device tables', async () => {
  const B = 2, T = 7, H = 3, D = 8, Tmax = 20;
  const cos = rand(Tmax * D / 2), sin = rand(Tmax * D / 2);
  for (const inverse of [false, true]) for (const accumulate of [false, true]) for (const onDevice of [false, true]) {
    const p: RopeParams = { B, T, H, D, pos0: 5, inverse, accumulate };
    const src = rand(B * T * H * D), dst = rand(B * T * H * D), want = dst.slice(), gdst = upload(gpu, dst);
    ref.rope(src, want, cos, sin, p);
    gpu.rope(upload(gpu, src), gdst, onDevice ? upload(gpu, cos) : cos, onDevice ? upload(gpu, sin) : sin, p);
    close(await gpu.read(gdst), want, `rope ${JSON.stringify(p)}`, 1e-6, 1e-6);
  }
});

const ATTENTION_SHAPES: (AttentionShape & { Tmax?: number })[] = [
  { B: 1, Tq: 1, Tk: 1, H: 1, Hkv: 1, D: 1, scale: 1 },
  { B: 2, Tq: 7, Tk: 7, H: 4, Hkv: 2, D: 8, scale: 1 / Math.sqrt(8) },
  { B: 1, Tq: 33, Tk: 33, H: 2, Hkv: 1, D: 33, scale: 0.2 },
  { B: 1, Tq: 129, Tk: 129, H: 1, Hkv: 1, D: 16, scale: 0.25 },
  { B: 1, Tq: 70, Tk: 70, H: 2, Hkv: 2, D: 128, scale: 1 / Math.sqrt(128) },
  // decode: queries at the end of a KV cache allocated for Tmax positions
  { B: 2, Tq: 3, Tk: 40, H: 4, Hkv: 2, D: 8, scale: 0.3, Tmax: 50 },
  { B: 3, Tq: 1, Tk: 129, H: 4, Hkv: 2, D: 16, scale: 0.25, Tmax: 140 },
];

test('attention forward and backward match ref: GQA, decode offsets, KV batch stride', async () => {
  for (const shape of ATTENTION_SHAPES) {
    const { B, Tq, Tk, H, Hkv, D, Tmax } = shape;
    const s: AttentionShape = { ...shape, kvBatchStride: Tmax ? Tmax * Hkv * D : undefined };
    const kvLen = B * (Tmax ?? Tk) * Hkv * D, qLen = B * Tq * H * D;
    const q = rand(qLen, 2), k = rand(kvLen, 2), v = rand(kvLen);
    const out = new Float32Array(qLen), lse = new Float32Array(B * H * Tq);
    ref.attentionForward(q, k, v, out, lse, s);
    const gq = upload(gpu, q), gk = upload(gpu, k), gv = upload(gpu, v);
    const gout = upload(gpu, new Float32Array(qLen)), glse = upload(gpu, new Float32Array(B * H * Tq));
    gpu.attentionForward(gq, gk, gv, gout, glse, s);
    const label = JSON.stringify(s);
    close(await gpu.read(gout), out, `attention out ${label}`, 2e-5, 2e-5);
    close(await gpu.read(glse), lse, `attention lse ${label}`, 2e-5, 2e-5);

    const dout = rand(qLen), dq = rand(qLen), dk = rand(kvLen), dv = rand(kvLen);
    const wq = dq.slice(), wk = dk.slice(), wv = dv.slice();
    ref.attentionBackward(dout, q, k, v, out, lse, wq, wk, wv, s);
    const gdq = upload(gpu, dq), gdk = upload(gpu, dk), gdv = upload(gpu, dv);
    gpu.attentionBackward(upload(gpu, dout), gq, gk, gv, gout, glse, gdq, gdk, gdv, s);
    close(await gpu.read(gdq), wq, `attention dq ${label}`, 2e-5, 1e-4);
    close(await gpu.read(gdk), wk, `attention dk ${label}`, 2e-5, 1e-4);
    close(await gpu.read(gdv), wv, `attention dv ${label}`, 2e-5, 1e-4);
  }
});

test('embedding forward and backward (repeated ids) match ref; a bad id is a UserError', async () => {
  for (const [V, dim, n] of [[33, 7, 20], [5, 129, 20], [1, 1, 20], [1000, 3, 300]]) {
    // small tables: a few ids, each many times; the big one: 300 draws of 200 ids spread over 1000 rows
    const r = seededRng(seed++);
    const id = (i: number) => (V > 100 ? Math.floor(r() * 200) * 5 : (i * 7) % Math.min(V, 5));
    const ids = Int32Array.from({ length: n }, (_, i) => id(i));
    const table = rand(V * dim), out = new Float32Array(n * dim), gout = upload(gpu, out);
    ref.embeddingForward(table, ids, out, n, dim);
    gpu.embeddingForward(upload(gpu, table), ids, gout, n, dim);
    close(await gpu.read(gout), out, `embedding ${V}x${dim}`, 0, 0);
    const dout = rand(n * dim), dtable = rand(V * dim), want = dtable.slice(), gdt = upload(gpu, dtable);
    ref.embeddingBackward(dout, ids, want, n, dim);
    gpu.embeddingBackward(upload(gpu, dout), ids, gdt, n, dim);
    close(await gpu.read(gdt), want, `embedding backward ${V}x${dim}`, 1e-6, 1e-6);
  }
  const table = upload(gpu, rand(33 * 7));
  assert.throws(() => gpu.embeddingForward(table, Int32Array.of(0, 33), gpu.alloc(14), 2, 7),
    (e: unknown) => e instanceof UserError && /token id 33 at position 1 is outside \[0, 33\)/.test(e.message));
});

test('cross-entropy, plain and soft-capped, matches ref: padded rows, ignored targets', async () => {
  for (const [rows, V, stride] of [[7, 33, 40], [3, 129, 129], [2, 1, 1], [4, 1000, 1003]]) {
    const targets = Int32Array.from({ length: rows }, (_, r) => (r % 3 === 1 ? -1 : (r * 13) % V));
    const logits = rand(rows * stride, 20), dloss = rand(rows);
    for (const cap of [0, 15]) {
      const losses = new Float32Array(rows), lse = new Float32Array(rows);
      const glosses = upload(gpu, losses), glse = upload(gpu, lse), glogits = upload(gpu, logits);
      if (cap) {
        ref.softcapCrossEntropyForward(logits, targets, losses, lse, rows, V, stride, cap);
        gpu.softcapCrossEntropyForward(glogits, targets, glosses, glse, rows, V, stride, cap);
      } else {
        ref.crossEntropyForward(logits, targets, losses, lse, rows, V, stride);
        gpu.crossEntropyForward(glogits, targets, glosses, glse, rows, V, stride);
      }
      const label = `rows=${rows} V=${V} stride=${stride} cap=${cap}`;
      close(await gpu.read(glosses), losses, `cross-entropy losses ${label}`, 1e-5, 1e-5);
      close(await gpu.read(glse), lse, `cross-entropy lse ${label}`, 1e-5, 1e-5);
      const garbage = rand(rows * stride, 100), want = garbage.slice(), gd = upload(gpu, garbage);
      if (cap) {
        ref.softcapCrossEntropyBackward(logits, targets, lse, dloss, want, rows, V, stride, cap);
        gpu.softcapCrossEntropyBackward(glogits, targets, glse, upload(gpu, dloss), gd, rows, V, stride, cap);
      } else {
        ref.crossEntropyBackward(logits, targets, lse, dloss, want, rows, V, stride);
        gpu.crossEntropyBackward(glogits, targets, glse, upload(gpu, dloss), gd, rows, V, stride);
      }
      close(await gpu.read(gd), want, `cross-entropy dlogits ${label}`, 1e-6, 1e-5);
    }
  }
});

test('AdamW matches ref (bias correction, decoupled weight decay)', async () => {
  for (const n of SIZES) for (const step of [1, 10]) {
    const p = rand(n), g = rand(n), m = rand(n, 0.1), v = rand(n, 0.01).map(Math.abs);
    const gp = upload(gpu, p), gm = upload(gpu, m), gv = upload(gpu, v);
    gpu.adamwStep(gp, upload(gpu, g), gm, gv, n, 0.01, 0.9, 0.95, 1e-8, 0.1, step);
    ref.adamwStep(p, g, m, v, n, 0.01, 0.9, 0.95, 1e-8, 0.1, step);
    close(await gpu.read(gp), p, `adamw param n=${n} step=${step}`, 1e-6, 1e-6);
    close(await gpu.read(gm), m, `adamw m n=${n} step=${step}`, 1e-7, 1e-6);
    close(await gpu.read(gv), v, `adamw v n=${n} step=${step}`, 1e-8, 1e-6);
  }
});

const sumAbs = (x: Float32Array) => x.reduce((s, v) => s + Math.abs(v), 0);

test('sum, normalize and clipGradNorm stay on the device and match ref', async () => {
  for (const n of [...SIZES, 100_003]) {
    const x = rand(n), out = new Float32Array(1), gout = upload(gpu, out);
    ref.sum(x, n, out);
    gpu.sum(upload(gpu, x), n, gout);
    close(await gpu.read(gout), out, `sum n=${n}`, 0, 1e-6, () => sumAbs(x));
    const y = x.slice(), gy = upload(gpu, x);
    ref.normalize(y, n, 1e-7);
    gpu.normalize(gy, n, 1e-7);
    close(await gpu.read(gy), y, `normalize n=${n}`, 1e-7, 1e-6);
  }
  const sizes = [1, 7, 0, 129, 33, 5000];
  for (const maxNorm of [0, 1, 1e6]) {
    const grads = sizes.map(n => rand(n)), ggrads = grads.map(g => upload(gpu, g));
    const norm = new Float32Array(1), gnorm = upload(gpu, norm);
    ref.clipGradNorm(grads, sizes, maxNorm, norm);
    gpu.clipGradNorm(ggrads, sizes, maxNorm, gnorm);
    close(await gpu.read(gnorm), norm, `clipGradNorm norm max=${maxNorm}`, 0, 1e-6);
    for (let i = 0; i < sizes.length; i++) {
      close(await gpu.read(ggrads[i]), grads[i], `clipGradNorm grad ${i} max=${maxNorm}`, 1e-7, 1e-6);
    }
  }
});

test('200 steps through an arena reuse device memory: bytesAllocated stays flat', async () => {
  const previous = getBackend();
  setBackend(gpu);
  try {
    const arena = new Arena();
    const cos = rand(64), sin = rand(64);
    const step = async () => {
      const x = arena.alloc(4 * 8 * 16), w = arena.alloc(16 * 16), y = arena.alloc(4 * 8 * 16), r = arena.alloc(4 * 8);
      gpu.matmul(x, w, y, { batch: 1, M: 32, N: 16, K: 16, transA: false, transB: false, accumulate: false });
      gpu.rmsnormForward(y, x, r, 32, 16, 1e-6);
      gpu.rope(x, y, cos, sin, { B: 4, T: 8, H: 1, D: 16, pos0: 0, inverse: false, accumulate: false });
      const lse = arena.alloc(32), o = arena.alloc(4 * 8 * 16);
      const s: AttentionShape = { B: 4, Tq: 8, Tk: 8, H: 1, Hkv: 1, D: 16, scale: 0.25 };
      gpu.attentionForward(y, y, y, o, lse, s);
      const dq = arena.alloc(512), dk = arena.alloc(512), dv = arena.alloc(512);
      for (const g of [dq, dk, dv]) gpu.fill(g, 0, 512);
      gpu.attentionBackward(o, y, y, y, o, lse, dq, dk, dv, s);
      const losses = arena.alloc(32), dl = arena.alloc(32);
      const targets = Int32Array.from({ length: 32 }, (_, i) => (i % 5 === 0 ? -1 : i % 16));
      gpu.crossEntropyForward(o, targets, losses, lse, 32, 16, 16);
      const norm = arena.alloc(1);
      gpu.clipGradNorm([dq, dk, dv], [512, 512, 512], 1, norm);
      gpu.sum(losses, 32, dl);
      await gpu.read(dl.subarray(0, 1));
      arena.reset();
    };
    await step();
    const before = gpu.bytesAllocated;
    for (let i = 0; i < 199; i++) await step();
    assert.equal(gpu.bytesAllocated, before);
    // alloc and release give the bytes back
    const b = gpu.alloc(1000);
    assert.equal(gpu.bytesAllocated, before + 4000);
    gpu.release(b);
    assert.equal(gpu.bytesAllocated, before);
    assert.throws(() => gpu.release(b), /released twice/);
  } finally {
    setBackend(previous);
  }
});

test('host arrays, short views and released buffers are refused before any dispatch', () => {
  const a = gpu.alloc(8);
  assert.throws(() => gpu.add(new Float32Array(8), a, a, 8, false), /not a buffer from this backend's alloc/);
  assert.throws(() => gpu.add(a, a, a.subarray(0, 4), 8, false), /holds 4 elements, the kernel needs 8/);
  assert.throws(() => gpu.release(a.subarray(1)), /not a view/);
  gpu.release(a);
  assert.throws(() => gpu.fill(a, 0, 8), /was released/);
});

test('openNodeWebGpu without an adapter is a one-line UserError naming the packages', async () => {
  await assert.rejects(openNodeWebGpu({ dawnBackend: 'd3d12' }), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message,
      /^no WebGPU adapter: .*install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri, or pick NANOCHAT_BACKEND=native$/);
    assert.ok(!e.message.includes('\n'), e.message);
    return true;
  });
});

test('software adapters are recognised by flag or by name', () => {
  const info = (device: string, description = '', isFallbackAdapter = false) =>
    ({ vendor: '', architecture: '', device, description, isFallbackAdapter }) as unknown as GPUAdapterInfo;
  assert.equal(isSoftwareAdapter(info('llvmpipe-llvm-15-0-6-256-bits-')), true);
  assert.equal(isSoftwareAdapter(info('', 'SwiftShader Device (Subzero)')), true);
  assert.equal(isSoftwareAdapter(info('x', 'y', true)), true);
  assert.equal(isSoftwareAdapter(info('NVIDIA H100 80GB HBM3', 'NVIDIA')), false);
  assert.equal(typeof gpu.isSoftware, 'boolean');
});

test('src/tensor/webgpu imports no Node module and not Dawn: it runs in a browser tab too', () => {
  const dir = fileURLToPath(new URL('../../../src/tensor/webgpu/', import.meta.url));
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(f => f.endsWith('.ts'));
  assert.ok(files.length >= 10, `found ${files.length} files in ${dir}`);
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'/g)) {
      const spec = m[1] ?? m[2];
      assert.ok(spec.startsWith('.'), `${f} imports '${spec}'`);
    }
  }
});
