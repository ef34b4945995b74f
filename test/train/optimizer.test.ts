import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Optimizer, constantMuonMomentum, lrMultiplier } from '../../src/train/optimizer.js';
import { Tensor, hostData } from '../../src/tensor/tensor.js';
import { createBackend, setBackend } from '../../src/tensor/backends.js';
import { gaussianRng } from '../../src/tensor/random.js';

/** Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations (float64). */
function symmetricEigenvalues(a: Float64Array, n: number): number[] {
  const m = Float64Array.from(a);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      const apq = m[p * n + q];
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < n; k++) { // rotate columns p, q
        const akp = m[k * n + p], akq = m[k * n + q];
        m[k * n + p] = c * akp - s * akq; m[k * n + q] = s * akp + c * akq;
      }
      for (let k = 0; k < n; k++) { // rotate rows p, q
        const apk = m[p * n + k], aqk = m[q * n + k];
        m[p * n + k] = c * apk - s * aqk; m[q * n + k] = s * apk + c * aqk;
      }
    }
  }
  return Array.from({ length: n }, (_, i) => m[i * n + i]).sort((x, y) => x - y);
}

/** Singular values of a rows x cols matrix: sqrt of the eigenvalues of the small Gram matrix. */
function singularValues(x: Float32Array, rows: number, cols: number): number[] {
  const r = Math.min(rows, cols);
  const g = new Float64Array(r * r);
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
    let s = 0;
    if (rows <= cols) for (let k = 0; k < cols; k++) s += x[i * cols + k] * x[j * cols + k];
    else for (let k = 0; k < rows; k++) s += x[k * cols + i] * x[k * cols + j];
    g[i * r + j] = s;
  }
  return symmetricEigenvalues(g, r).map((e) => Math.sqrt(Math.max(e, 0)));
}

test('Muon orthogonalization: singular values of the update land near 1, wide and tall', () => {
  setBackend(createBackend('ref'));
  const randn = gaussianRng(3);
  for (const [rows, cols] of [[8, 24], [24, 8], [16, 16]]) {
    const g = new Float32Array(rows * cols);
    // an ill-conditioned matrix: the short side's rows (or columns) scaled from 1 to 30
    const r = Math.min(rows, cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) g[i * cols + j] = randn() * Math.pow(30, (rows <= cols ? i : j) / (r - 1));
    const before = singularValues(g, rows, cols);
    const p = Tensor.parameter([rows, cols]);
    const opt = new Optimizer([{ kind: 'muon', params: [{ name: 'w', tensor: p }], lr: 1, momentumStart: 0, momentumEnd: 0, momentumWarmupSteps: 1, nsSteps: 5 }]);
    const out = opt.orthogonalize(createBackend('ref'), g, rows, cols, 5);
    const sv = singularValues(hostData(out), rows, cols);
    assert.ok(before[before.length - 1] / before[0] > 10, 'the input must be ill-conditioned for this test to mean anything');
    for (const s of sv) assert.ok(s > 0.5 && s < 1.25, `${rows}x${cols}: singular value ${s.toFixed(3)} outside [0.5, 1.25] (all: ${sv.map((v) => v.toFixed(2))})`);
  }
});

test('Muon orthogonalization of a tall matrix is the transpose of the wide one\'s (no transposes inside, tol 1e-5)', () => {
  setBackend(createBackend('ref'));
  const randn = gaussianRng(5), rows = 24, cols = 8;
  const g = Float32Array.from({ length: rows * cols }, () => randn());
  const gt = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) gt[j * rows + i] = g[i * cols + j];
  const p = Tensor.parameter([rows, cols]);
  const opt = new Optimizer([{ kind: 'muon', params: [{ name: 'w', tensor: p }], lr: 1, momentumStart: 0, momentumEnd: 0, momentumWarmupSteps: 1, nsSteps: 5 }]);
  const tall = hostData(opt.orthogonalize(createBackend('ref'), g, rows, cols, 5)).slice();
  const wide = hostData(opt.orthogonalize(createBackend('ref'), gt, cols, rows, 5));
  let e = 0;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) e = Math.max(e, Math.abs(tall[i * cols + j] - wide[j * rows + i]));
  assert.ok(e < 1e-5, `tall vs transposed wide: ${e}`);
});

test('Muon step: first update is -lr * sqrt(max(1, rows/cols)) * orthogonalized gradient', () => {
  setBackend(createBackend('ref'));
  const randn = gaussianRng(9);
  const [rows, cols] = [12, 4];
  const p = Tensor.parameter([rows, cols]);
  const pg = hostData(p.ensureGrad());
  for (let i = 0; i < p.size; i++) pg[i] = randn();
  const opt = new Optimizer([{ kind: 'muon', params: [{ name: 'w', tensor: p }], lr: 0.02, momentumStart: 0.85, momentumEnd: 0.95, momentumWarmupSteps: 300, nsSteps: 5 }]);
  // step 0: momentum 0.85; buf = 0.15 g; nesterov update = g + 0.85 (0.15 g - g) = 0.2775 g, same direction
  const ortho = opt.orthogonalize(createBackend('ref'), pg.map((v) => 0.2775 * v), rows, cols, 5);
  const expect = hostData(ortho).slice();
  opt.stepAll();
  const k = -0.02 * Math.sqrt(rows / cols);
  const pd = p.toArray();
  for (let i = 0; i < p.size; i++) assert.ok(Math.abs(pd[i] - k * expect[i]) < 1e-5, `element ${i}: ${pd[i]} vs ${k * expect[i]}`);
  assert.equal(opt.step, 1);
  assert.ok(Math.abs(opt.muonMomentum(opt.groups[0] as never) - (0.85 + 0.1 / 300)) < 1e-12);
});

test('AdamW step: matches the bias-corrected formula by hand', () => {
  setBackend(createBackend('ref'));
  const p = Tensor.parameter([3]);
  hostData(p.data).set([1, -2, 0.5]);
  hostData(p.ensureGrad()).set([0.1, -0.3, 2]);
  const opt = new Optimizer([{ kind: 'adamw', params: [{ name: 'p', tensor: p }], lr: 0.01, betas: [0.8, 0.95], eps: 1e-10, weightDecay: 0 }]);
  opt.stepAll();
  // step 1: m_hat = g, v_hat = g^2, update = lr * sign(g) (up to eps)
  assert.deepEqual(Array.from(p.toArray()).map((v) => +v.toFixed(6)), [0.99, -1.99, 0.49]);
});

test('LR schedule: constant, then linear to 0 over the last 20%, never ramps up', () => {
  const total = 100;
  const lrs = Array.from({ length: total + 1 }, (_, i) => lrMultiplier(i, total));
  assert.equal(lrs[0], 1);
  assert.equal(lrs[79], 1);
  assert.equal(lrs[80], 1);
  assert.ok(Math.abs(lrs[90] - 0.5) < 1e-12);
  assert.equal(lrs[100], 0);
  for (let i = 1; i <= total; i++) assert.ok(lrs[i] <= lrs[i - 1], `lr rose at step ${i}`);
});

test('Muon momentum: base and mid ramp 0.85 -> 0.95 over 300 steps; SFT and RL hold 0.95 from step 0 (as the reference)', () => {
  const p = Tensor.parameter([4, 4]);
  const ramp = { kind: 'muon' as const, params: [{ name: 'w', tensor: p }], lr: 0.02, momentumStart: 0.85, momentumEnd: 0.95, momentumWarmupSteps: 300, nsSteps: 5 };
  const ramped = new Optimizer([ramp]);
  assert.equal(ramped.muonMomentum(ramped.groups[0] as never), 0.85);
  const constant = new Optimizer(constantMuonMomentum([ramp]));
  for (const step of [0, 1, 150, 299, 300, 1000]) {
    constant.step = step;
    assert.ok(Math.abs(constant.muonMomentum(constant.groups[0] as never) - 0.95) < 1e-12, `step ${step}`);
  }
  assert.equal(ramp.momentumStart, 0.85, 'the groups given are not changed');
});
