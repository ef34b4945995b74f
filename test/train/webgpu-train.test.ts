// The GPT on the webgpu backend against native: the same 20 training steps (the shared loop: forward, backward,
// gradient clipping, AdamW + Muon), a checkpoint written from the GPU and read on the CPU, greedy decoding with the
// KV cache, the evaluations (bits per byte, CORE's scorer) on the same weights, and device memory that stays flat over
// 200 steps. Here Dawn runs on Mesa's llvmpipe (CI has no GPU).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GPT } from '../../src/model/gpt.js';
import { createBackend, setBackend } from '../../src/tensor/backends.js';
import type { Backend } from '../../src/tensor/backend.js';
import { arena } from '../../src/tensor/tensor.js';
import { loadWeights, checkpointFiles } from '../../src/checkpoint/checkpoint.js';
import type { WebGpuBackend } from '../../src/tensor/webgpu/backend.js';
import { bpbOverBatches } from '../../src/eval/bpb.js';
import { gptScorer } from '../../src/eval/core-run.js';
import type { Batch } from '../../src/data/batch.js';
import { tinyTrain, TINY_CONFIG } from '../helpers/tiny-train.js';
import { testWebGpu } from '../helpers/webgpu.js';
import { byteBpe } from '../helpers/byte-bpe.js';
import { tinyGpt } from '../engine/helpers.js';

let gpu: WebGpuBackend;
let native: Backend;
before(async () => {
  gpu = await testWebGpu();
  native = createBackend('native');
});
after(() => { setBackend(native); gpu.destroy(); });

const lossesOf = (dir: string): number[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as { loss?: number }).filter((r) => r.loss !== undefined).map((r) => r.loss!);

/** Greedy continuation of `prompt` by `n` tokens through the KV cache (prefill, then one token a step). */
async function greedy(model: GPT, prompt: number[], n: number): Promise<number[]> {
  const cache = model.newCache(1, prompt.length + n);
  let logits = await model.forwardCached(Int32Array.from(prompt), 1, prompt.length, cache);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < model.config.vocabSize; j++) if (logits[j] > logits[best]) best = j;
    out.push(best);
    if (i < n - 1) logits = await model.forwardCached(Int32Array.of(best), 1, 1, cache);
  }
  model.releaseCache(cache);
  return out;
}

// a hang in the GPU stack fails the test instead of stalling the suite
const GPU_TEST = { timeout: 300_000 };

test('20 steps on webgpu: the losses of native within 1e-4 relative; its checkpoint loads on native', GPU_TEST, async () => {
  setBackend(native);
  const cpu = await tinyTrain(20);
  setBackend(gpu);
  const dev = await tinyTrain(20);
  const a = lossesOf(cpu.dir), b = lossesOf(dev.dir);
  assert.equal(a.length, 20);
  assert.equal(b.length, 20);
  a.forEach((l, i) => assert.ok(Math.abs(l - b[i]) <= 1e-4 * Math.abs(l), `step ${i + 1}: native ${l}, webgpu ${b[i]}`));
  assert.ok(b[19] < b[0] - 0.5, `the loss falls on webgpu: ${b[0]} -> ${b[19]}`);

  // the checkpoint written from GPU memory holds exactly the GPU's weights, and native scores text with them as
  // the GPU does
  const ids = Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 5 + 1) % 40);
  const targets = Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 5 + 6) % 40);
  const onGpu = new GPT(TINY_CONFIG);
  loadWeights(onGpu, checkpointFiles(dev.dir, 20).model);
  const gpuLoss = (await onGpu.forward(ids, 2, 16, targets).loss!.read())[0];
  arena.reset();
  setBackend(native);
  const onCpu = new GPT(TINY_CONFIG);
  loadWeights(onCpu, checkpointFiles(dev.dir, 20).model);
  for (const [name, t] of onCpu.params) {
    assert.deepEqual(t.toArray(), dev.weights[[...onCpu.params.keys()].indexOf(name)], `${name} as trained`);
  }
  const cpuLoss = onCpu.forward(ids, 2, 16, targets).loss!.item();
  arena.reset();
  assert.ok(Math.abs(cpuLoss - gpuLoss) <= 1e-5 * cpuLoss, `the same text: native ${cpuLoss}, webgpu ${gpuLoss}`);

  // greedy decoding with the KV cache picks the same tokens on both
  const prompt = [1, 6, 11, 16];
  const cpuTokens = await greedy(onCpu, prompt, 12);
  setBackend(gpu);
  assert.deepEqual(await greedy(onGpu, prompt, 12), cpuTokens);
});

test('bits per byte and the CORE scorer on webgpu: the numbers of native for the same weights', GPU_TEST, async () => {
  setBackend(native);
  const tok = byteBpe();
  // the head is padded past the vocabulary (265 -> 320): the argmax must skip the padded columns on both
  const cpu = tinyGpt(tok.vocabSize, { sequenceLen: 64 });
  setBackend(gpu);
  const dev = new GPT(cpu.config);
  for (const [name, t] of cpu.params) gpu.write(dev.params.get(name)!.data, t.toArray());
  assert.ok(dev.vocabPadded > tok.vocabSize);

  // two batches of 3 x 48 with ignored targets (-1) and special tokens (0 bytes), which bits per byte leaves out
  const B = 3, T = 48;
  const batches = (): Batch[] => [0, 1].map((k) => {
    const inputs = Int32Array.from({ length: B * T }, (_, i) => (i * 37 + k * 11) % 256);
    const targets = Int32Array.from({ length: B * T },
      (_, i) => (i % 17 === 5 ? -1 : i % 23 === 3 ? 256 : (i * 29 + k) % 256));
    return { inputs, targets, B, T };
  });
  const bpb = async (model: GPT) => {
    const list = batches();
    return (await bpbOverBatches(model, tok, () => list.shift() ?? null, 1e9)).bpb;
  };
  const rows = [
    [256, 10, 20, 30, 40, 50], [256, 7], Array.from({ length: 40 }, (_, i) => (i * 13) % 256), [256, 99, 98, 97],
  ];
  setBackend(native);
  const cpuBpb = await bpb(cpu);
  const cpuScores = await gptScorer(cpu, 256, 3)(rows);
  setBackend(gpu);
  const devBpb = await bpb(dev);
  const devScores = await gptScorer(dev, 256, 3)(rows);
  setBackend(native);

  assert.ok(Math.abs(cpuBpb - devBpb) <= 1e-5 * cpuBpb, `bits per byte: native ${cpuBpb}, webgpu ${devBpb}`);
  assert.equal(devScores.losses.length, rows.length);
  rows.forEach((r, i) => {
    assert.equal(devScores.losses[i].length, r.length);
    for (let t = 0; t + 1 < r.length; t++) {
      const a = cpuScores.losses[i][t], b = devScores.losses[i][t];
      assert.ok(Math.abs(a - b) <= 1e-4, `row ${i} position ${t} loss: native ${a}, webgpu ${b}`);
    }
    assert.deepEqual(devScores.argmax[i], cpuScores.argmax[i], `row ${i} argmax`);
  });
});

test('device memory stays flat over 200 training steps on webgpu', GPU_TEST, async () => {
  setBackend(gpu);
  const samples: number[] = [];
  await tinyTrain(200, { stepStats: () => { samples.push(gpu.bytesAllocated); return {}; } });
  // the first steps allocate the arena and the optimizer's buffers; from step 10 on nothing may grow
  assert.equal(samples.length, 200);
  assert.equal(Math.max(...samples.slice(10)), samples[10], `bytes held at steps 10..200: ${samples[10]} .. ${Math.max(...samples.slice(10))}`);
});
