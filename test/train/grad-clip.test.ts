// Global gradient-norm clipping (base-train's --grad-clip, 1.0 by default as the reference): above the
// limit every gradient is scaled so the global norm equals it, below it nothing changes; the trainer
// logs the norm before clipping on every step's line and in metrics.jsonl.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipGradNorm, readMetrics } from '../../src/train/trainer.js';
import { gaussianRng } from '../../src/tensor/random.js';
import { tinyTrain } from '../helpers/tiny-train.js';

/** sqrt(sum of squares) over every array, in float64: the plain loop the trainer's norm must match. */
function plainNorm(grads: Float32Array[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

function randomGrads(): Float32Array[] {
  const randn = gaussianRng(11);
  return [100, 37, 1000].map((n) => Float32Array.from({ length: n }, () => 0.3 * randn()));
}

test('clipping above the limit scales every gradient by limit / norm: the global norm becomes the limit', async () => {
  const grads = randomGrads(), before = grads.map((g) => g.slice());
  const norm = plainNorm(grads), limit = norm / 3;
  const returned = await clipGradNorm(grads, limit);
  assert.ok(Math.abs(returned - norm) < 1e-6 * norm, `returns the norm before clipping: ${returned} vs ${norm}`);
  assert.ok(Math.abs(plainNorm(grads) - limit) < 1e-5 * limit, `norm after clipping ${plainNorm(grads)}, limit ${limit}`);
  const coef = limit / (norm + 1e-6);
  grads.forEach((g, k) => g.forEach((v, i) => {
    const want = before[k][i] * coef;
    assert.ok(Math.abs(v - want) <= 1e-6 * Math.abs(want) + 1e-12, `array ${k} element ${i}: ${v} vs ${want}`);
  }));
});

test('at or below the limit, or with limit 0 (disabled), the gradients are left exactly as they were', async () => {
  for (const limit of [0, 3 * plainNorm(randomGrads())]) {
    const grads = randomGrads(), before = grads.map((g) => g.slice());
    const norm = await clipGradNorm(grads, limit);
    assert.ok(Math.abs(norm - plainNorm(before)) < 1e-6 * norm, 'the norm is measured either way');
    grads.forEach((g, k) => assert.deepEqual(g, before[k], `limit ${limit}: array ${k} changed`));
  }
});

test('the trainer logs the gradient norm every step (terminal and metrics.jsonl) and clips before the optimizer step', async () => {
  const free = await tinyTrain(3, { gradClip: 0 });
  const clipped = await tinyTrain(3, { gradClip: 1e-3 }), loose = await tinyTrain(3, { gradClip: 1e6 });
  const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
  const records = readMetrics(free.dir).filter((r) => r.loss !== undefined);
  assert.equal(records.length, 3);
  for (const r of records) assert.ok(Number.isFinite(r.grad_norm) && r.grad_norm! > 1e-3, `step ${r.step}: grad_norm ${r.grad_norm}`);
  assert.equal(free.log.filter((l) => /^step \d\/3 .*\| grad norm \d+\.\d{4} \|/.test(l)).length, 3, free.log.join('\n'));
  // the first step's norm is measured before clipping: the same with or without it
  assert.equal(readMetrics(clipped.dir)[0].grad_norm, records[0].grad_norm);
  // a limit far below the norm changes the run; one far above it changes nothing, bit for bit
  assert.ok(clipped.weights.some((w, i) => !same(w, free.weights[i])), 'clipping had no effect');
  loose.weights.forEach((w, i) => assert.ok(same(w, free.weights[i]), `parameter ${i} changed under a limit it never reached`));
});
