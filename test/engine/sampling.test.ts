import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, rowSeed, sampleToken } from '../../src/engine/sampling.js';
import { seededRng } from '../../src/tensor/random.js';

test('temperature 0 is argmax over the real vocabulary only (padding ignored)', () => {
  const logits = Float32Array.from([0, 3, 1, 2, 99, 99]); // the last two are padding columns
  assert.equal(sampleToken(logits, 0, 4, { temperature: 0 }, () => 0.5), 1);
  assert.equal(argmax(Float32Array.from([5, 7, 7]), 0, 3), 1); // first on ties
  // offsets pick a row
  assert.equal(sampleToken(Float32Array.from([9, 0, 0, 0, 4, 0]), 3, 3, { temperature: 0 }, () => 0), 1);
});

test('top-k keeps only the k most likely tokens and sampling follows softmax(logits / T)', () => {
  const logits = Float32Array.from([0, Math.log(2), Math.log(4), Math.log(8), -50, Math.log(1)]);
  const rng = seededRng(123);
  const counts = new Array(6).fill(0);
  const N = 20000;
  for (let i = 0; i < N; i++) counts[sampleToken(logits, 0, 6, { temperature: 1, topK: 3 }, rng)]++;
  // top-3: ids 3 (8), 2 (4), 1 (2): probabilities 8/14, 4/14, 2/14
  assert.equal(counts[0] + counts[4] + counts[5], 0);
  assert.ok(Math.abs(counts[3] / N - 8 / 14) < 0.02, `p(3) = ${counts[3] / N}`);
  assert.ok(Math.abs(counts[1] / N - 2 / 14) < 0.02, `p(1) = ${counts[1] / N}`);
  // a high temperature flattens: with T = 1e6 the 3 survivors are near-uniform
  const flat = new Array(6).fill(0);
  for (let i = 0; i < 6000; i++) flat[sampleToken(logits, 0, 6, { temperature: 1e6, topK: 3 }, rng)]++;
  for (const id of [1, 2, 3]) assert.ok(Math.abs(flat[id] / 6000 - 1 / 3) < 0.04);
});

test('seeded generators repeat and rows get distinct streams', () => {
  const a = seededRng(42), b = seededRng(42);
  for (let i = 0; i < 10; i++) assert.equal(a(), b());
  const seeds = new Set(Array.from({ length: 64 }, (_, r) => rowSeed(42, r)));
  assert.equal(seeds.size, 64);
  assert.notEqual(rowSeed(1, 0), rowSeed(2, 0));
  const x = seededRng(7)();
  assert.ok(x >= 0 && x < 1);
});
