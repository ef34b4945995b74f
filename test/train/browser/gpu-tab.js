// Runs in a headless Chromium tab (test/train/webgpu-browser.test.ts serves it): the same compiled modules the CLI
// runs (dist/src), on navigator.gpu instead of Dawn. Trains a tiny GPT a few steps on the webgpu backend and on ref
// in the same tab, and decodes greedily with the KV cache on both; the Node side compares the results.
import { openDevice } from '/src/tensor/webgpu/device.js';
import { WebGpuBackend } from '/src/tensor/webgpu/backend.js';
import { RefBackend } from '/src/tensor/ref.js';
import { setBackend } from '/src/tensor/backends.js';
import { arena } from '/src/tensor/tensor.js';
import { GPT } from '/src/model/gpt.js';
import { Optimizer } from '/src/train/optimizer.js';

const CONFIG = { vocabSize: 40, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 32, sequenceLen: 16 };
const B = 2, T = 16;

async function run(backend, steps) {
  setBackend(backend);
  const model = new GPT(CONFIG);
  model.initWeights(3);
  const opt = new Optimizer(model.paramGroups({ embedding: 0.2, unembedding: 0.004, matrix: 0.02 }));
  const losses = [];
  for (let step = 0; step < steps; step++) {
    const inputs = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + step * 3) % 40);
    const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + step * 3 + 7) % 40);
    const loss = model.forward(inputs, B, T, targets).loss;
    loss.backward();
    losses.push((await loss.read())[0]);
    arena.reset();
    opt.stepAll();
    opt.zeroGrad();
  }
  const prompt = [1, 8, 15], cache = model.newCache(1, prompt.length + 8), tokens = [];
  let logits = await model.forwardCached(Int32Array.from(prompt), 1, prompt.length, cache);
  for (let i = 0; i < 8; i++) {
    let best = 0;
    for (let j = 1; j < CONFIG.vocabSize; j++) if (logits[j] > logits[best]) best = j;
    tokens.push(best);
    if (i < 7) logits = await model.forwardCached(Int32Array.of(best), 1, 1, cache);
  }
  model.releaseCache(cache);
  return { losses, tokens };
}

window.gpuTab = async (steps) => {
  const opened = await openDevice(navigator.gpu, 'core');
  if (!opened) return { error: 'navigator.gpu has no adapter' };
  const gpu = new WebGpuBackend(opened);
  const onGpu = await run(gpu, steps);
  const onRef = await run(new RefBackend(), steps);
  gpu.destroy();
  return { adapter: opened.report, features: opened.report.features, gpu: onGpu, ref: onRef };
};
