// The fused soft-cap + cross-entropy (op.softcapCrossEntropy, the training loss of the GPT):
// 1. the native kernels against the `ref` oracle on every instruction set, on odd shapes (rows 1, 7, 33;
//    V 1, 7, 129, 1000, with and without a padded row stride; ignored targets), tolerance 1e-5 of max |ref|;
// 2. the fused op against the unfused one, crossEntropy(softcap(raw)), on every backend: losses within
//    1e-6 relative for 'none', 'sum' and 'mean', gradients of raw within 1e-5 of their max;
// 3. the native binding's argument checks. Finite-difference gradients are in grad.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeBackend, NativeBackend } from '../../src/tensor/native.js';
import { RefBackend } from '../../src/tensor/ref.js';
import { Tensor, arena, hostData } from '../../src/tensor/tensor.js';
import * as op from '../../src/tensor/ops.js';
import { setBackend } from '../../src/tensor/backends.js';
import { backends } from '../helpers/backends.js';

const loaded = loadNativeBackend();
const nb = 'backend' in loaded ? (loaded.backend as NativeBackend) : undefined;
const skipWhy = 'error' in loaded ? `native addon not built: ${loaded.error}` : '';
const ref = new RefBackend();
const CAP = 15;

let seed = 2024;
function rand(): number {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
function rnd(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

/**
 * max |got - want| / max(max |want|, floor), after checking every value is finite. The floor is the scale of
 * the quantity: 1 for losses and lse (a row with V = 1 has loss exactly 0 in one path and ~1e-7 in the other),
 * the upstream gradient for gradients.
 */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-30): number {
  assert.equal(got.length, want.length);
  let e = 0, m = floor;
  for (let i = 0; i < want.length; i++) {
    assert.ok(Number.isFinite(got[i]), `non-finite value at ${i}: ${got[i]}`);
    e = Math.max(e, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return e / m;
}

/** rows x stride raw logits, V real columns, targets with every third row ignored; odd values in the padding */
function problem(rows: number, V: number, stride: number, scale: number) {
  const raw = rnd(rows * stride, scale);
  for (let r = 0; r < rows; r++) for (let j = V; j < stride; j++) raw[r * stride + j] = 1e4; // must never be read
  if (rows > 2 && V > 1) { raw[stride] = 400; raw[stride + 1] = -400; } // deep in the saturated tails of tanh
  const targets = Int32Array.from({ length: rows }, (_, r) => (r % 3 === 1 ? -1 : Math.floor(rand() * V)));
  return { raw, targets };
}

const SHAPES: [number, number, number][] = [];
for (const rows of [1, 7, 33]) for (const V of [1, 7, 129, 1000]) {
  SHAPES.push([rows, V, V]);
  SHAPES.push([rows, V, Math.ceil(V / 64) * 64]); // padded like the model's head: 64, 64, 192, 1024
}

test('native: soft-capped cross-entropy against ref on every instruction set (tol 1e-5)', (t) => {
  if (!nb) return t.skip(skipWhy);
  const done = new Set<string>();
  try {
    for (const want of ['avx512', 'avx2', 'generic'] as const) {
      const isa: string = nb.setIsa(want);
      if (isa !== want || done.has(isa)) continue;
      done.add(isa);
      for (const [rows, V, stride] of SHAPES) for (const scale of [3, 40]) {
        const { raw, targets } = problem(rows, V, stride, scale);
        const what: string = `${isa} rows=${rows} V=${V} stride=${stride} scale=${scale}`;
        const l1 = new Float32Array(rows), l2 = l1.slice(), s1 = l1.slice(), s2 = l1.slice();
        nb.softcapCrossEntropyForward(raw, targets, l1, s1, rows, V, stride, CAP);
        ref.softcapCrossEntropyForward(raw, targets, l2, s2, rows, V, stride, CAP);
        assert.ok(relErr(l1, l2, 1) <= 1e-5, `${what}: losses differ by ${relErr(l1, l2, 1)}`);
        assert.ok(relErr(s1, s2, 1) <= 1e-5, `${what}: lse differs by ${relErr(s1, s2, 1)}`);
        for (let r = 0; r < rows; r++) if (targets[r] === -1) assert.equal(l1[r], 0, `${what}: ignored row ${r} has a loss`);
        // the backward overwrites: start from garbage
        const dloss = rnd(rows), g1 = rnd(rows * stride, 9), g2 = rnd(rows * stride, 9);
        nb.softcapCrossEntropyBackward(raw, targets, s2, dloss, g1, rows, V, stride, CAP);
        ref.softcapCrossEntropyBackward(raw, targets, s2, dloss, g2, rows, V, stride, CAP);
        assert.ok(relErr(g1, g2, 1) <= 1e-5, `${what}: draw differs by ${relErr(g1, g2, 1)}`);
        for (let r = 0; r < rows; r++) for (let j = 0; j < stride; j++) {
          if (targets[r] === -1 || j >= V) assert.equal(g1[r * stride + j], 0, `${what}: draw[${r}, ${j}] should be 0`);
        }
      }
    }
  } finally {
    nb.setIsa('auto');
  }
});

for (const be of backends()) {
  test(`fused softcapCrossEntropy equals crossEntropy(softcap(raw)): losses 1e-6, gradients 1e-5 [${be.name}]`, () => {
    setBackend(be);
    for (const [rows, V, stride] of [[1, 1, 64], [7, 7, 7], [33, 129, 192], [33, 1000, 1024]]) for (const scale of [3, 40]) {
      const { raw, targets } = problem(rows, V, stride, scale);
      for (const reduction of ['none', 'sum', 'mean'] as const) {
        const what = `${be.name} rows=${rows} V=${V} stride=${stride} scale=${scale} ${reduction}`;
        const xf = Tensor.from(raw.slice(), [rows, stride], true), xu = Tensor.from(raw.slice(), [rows, stride], true);
        const fused = op.softcapCrossEntropy(xf, targets, V, CAP, reduction);
        const unfused = op.crossEntropy(op.softcap(xu, CAP), targets, V, reduction);
        assert.deepEqual(fused.shape, unfused.shape);
        const lf = fused.toArray(), lu = unfused.toArray();
        const el = relErr(lf, lu, 1);
        assert.ok(el <= 1e-6, `${what}: losses ${lf.slice(0, 4)} vs ${lu.slice(0, 4)}, error ${el}`);
        const seedGrad = reduction === 'none' ? rnd(rows) : Float32Array.of(1.5);
        fused.backward(seedGrad);
        unfused.backward(seedGrad);
        const eg = relErr(hostData(xf.grad!), hostData(xu.grad!), 1 / rows);
        assert.ok(eg <= 1e-5, `${what}: gradients differ by ${eg}`);
        arena.reset();
      }
    }
  });
}

test('native: the soft-capped cross-entropy binding checks its targets, sizes and cap', (t) => {
  if (!nb) return t.skip(skipWhy);
  const x = rnd(8), l = new Float32Array(2), s = new Float32Array(2);
  assert.throws(() => nb.softcapCrossEntropyForward(x, Int32Array.of(0, 4), l, s, 2, 4, 4, CAP), /outside/);
  assert.throws(() => nb.softcapCrossEntropyBackward(x, Int32Array.of(-2, 0), s, l, rnd(8), 2, 4, 4, CAP), /outside/);
  assert.throws(() => nb.softcapCrossEntropyForward(x, Int32Array.of(0, 1), l, s, 2, 5, 5, CAP), /too short/);
  assert.throws(() => nb.softcapCrossEntropyForward(x, Int32Array.of(0, 1), l, s, 2, 4, 4, 0), /cap/);
  assert.throws(() => op.softcapCrossEntropy(Tensor.from(x, [2, 4]), Int32Array.of(0, 4), 4, CAP), /outside \[0, 4\)/);
});
