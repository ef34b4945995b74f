// End-to-end engine checks: a small MLP trains to near-zero loss on a memorizable batch, and a long
// run reuses the arena's buffers (no growth after the first step).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, arena, hostData } from '../../src/tensor/tensor.js';
import * as op from '../../src/tensor/ops.js';
import { setBackend } from '../../src/tensor/backends.js';
import { backends } from '../helpers/backends.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { gaussianRng } from '../../src/tensor/random.js';

/** 2-layer MLP classifier: 16 random inputs of dim 12 -> 10 classes, hidden 32 with relu^2. */
function mlp(seed: number) {
  const randn = gaussianRng(seed);
  const w1 = Tensor.parameter([32, 12]), w2 = Tensor.parameter([10, 32]);
  hostData(w1.data).forEach((_, i, d) => { d[i] = randn() / Math.sqrt(12); });
  hostData(w2.data).forEach((_, i, d) => { d[i] = randn() / Math.sqrt(32); });
  const x = Tensor.from(Array.from({ length: 16 * 12 }, () => randn()), [16, 12]);
  const targets = Int32Array.from({ length: 16 }, (_, i) => (i * 7) % 10);
  const opt = new Optimizer([{ kind: 'adamw', params: [{ name: 'w1', tensor: w1 }, { name: 'w2', tensor: w2 }], lr: 0.01, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 }]);
  const step = (): number => {
    const logits = op.linear(op.reluSquared(op.linear(x, w1)), w2);
    const loss = op.crossEntropy(logits, targets, 10);
    loss.backward();
    const v = loss.item();
    opt.stepAll();
    opt.zeroGrad();
    arena.reset();
    return v;
  };
  return { step };
}

for (const be of backends()) {
  test(`a small MLP memorizes its batch [${be.name}]`, () => {
    setBackend(be);
    const { step } = mlp(1);
    const first = step();
    let loss = first;
    for (let i = 0; i < 400; i++) loss = step();
    assert.ok(first > 1.5, `initial loss ${first} should be near ln 10`);
    assert.ok(loss < 0.01, `loss after 400 steps is ${loss}, expected < 0.01`);
  });

  test(`1,000 steps run in flat memory: the arena stops growing after step 1 [${be.name}]`, () => {
    setBackend(be);
    const { step } = mlp(2);
    step();
    const bytesAfterFirst = arena.bytes;
    const heapAfterWarmup = (() => { for (let i = 0; i < 50; i++) step(); global.gc?.(); return process.memoryUsage().heapUsed; })();
    for (let i = 0; i < 950; i++) step();
    global.gc?.();
    assert.equal(arena.bytes, bytesAfterFirst, 'the arena allocated new buffers after the first step');
    const growth = process.memoryUsage().heapUsed - heapAfterWarmup;
    assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB over 950 steps`);
  });
}
