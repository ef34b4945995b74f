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

/** Deterministic values in [-scale, scale). */
const values = (n, seed, scale = 1) =>
  Float32Array.from({ length: n }, (_, i) => scale * (((i * 7919 + seed * 104729) % 1000) / 500 - 1));

/**
 * The kernels that reduce over a workgroup (RMSNorm forward and backward, cross-entropy plain and soft-capped, sum,
 * normalize, the gradient norm) on `be` against ref, on odd sizes around the workgroup and subgroup sizes: the
 * largest relative difference of each (outputs over max(1, |ref|)).
 */
async function reductionErrors(be) {
  const ref = new RefBackend(), errors = {};
  const note = (name, got, want) => {
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
    }
    errors[name] = Math.max(errors[name] ?? 0, worst);
  };
  const both = async (fn, outs) => {
    const got = [], want = [];
    for (const [b, into] of [[be, got], [ref, want]]) {
      const bufs = outs.map((o) => { const x = b.alloc(o.length); b.write(x, o); return x; });
      fn(b, bufs);
      for (const x of bufs) into.push(await b.read(x));
    }
    return [got, want];
  };
  for (const [rows, dim] of [[1, 1], [3, 7], [5, 33], [2, 129], [4, 300]]) {
    const n = rows * dim, x = values(n, dim), dy = values(n, dim + 1);
    const [g, w] = await both((b, [bx, by, br, bdy, bdx]) => {
      b.rmsnormForward(bx, by, br, rows, dim, 1e-6);
      b.rmsnormBackward(bdy, by, br, bdx, rows, dim, false);
    }, [x, new Float32Array(n), new Float32Array(rows), dy, new Float32Array(n)]);
    note('rmsnorm forward', g[1], w[1]); note('rmsnorm rstd', g[2], w[2]); note('rmsnorm backward', g[4], w[4]);
  }
  for (const [rows, V, stride] of [[1, 1, 1], [3, 7, 8], [2, 129, 192], [4, 1000, 1024]]) {
    const logits = values(rows * stride, V, 8);
    const targets = Int32Array.from({ length: rows }, (_, r) => (r === 1 ? -1 : (r * 5) % V)); // row 1 ignored
    for (const cap of [0, 3]) {
      const [g, w] = await both((b, [bl, bloss, blse]) => {
        if (cap) b.softcapCrossEntropyForward(bl, targets, bloss, blse, rows, V, stride, cap);
        else b.crossEntropyForward(bl, targets, bloss, blse, rows, V, stride);
      }, [logits, new Float32Array(rows), new Float32Array(rows)]);
      note(cap ? 'soft-capped cross-entropy' : 'cross-entropy', g[1], w[1]); note('cross-entropy lse', g[2], w[2]);
    }
  }
  for (const n of [1, 7, 129, 5000, 70_001]) {
    const x = values(n, n);
    const [g, w] = await both((b, [bx, bout, bnx, bg2, bnorm]) => {
      b.sum(bx, n, bout);
      b.normalize(bnx, n, 1e-7);
      b.clipGradNorm([bx, bg2], [n, 3], 0.5, bnorm);
    }, [x, new Float32Array(1), x, values(3, 2), new Float32Array(1)]);
    note('sum', g[1], w[1]); note('normalize', g[2], w[2]);
    note('gradient norm', g[4], w[4]); note('clipped', g[0], w[0]);
  }
  return errors;
}

window.gpuTab = async (steps) => {
  const opened = await openDevice(navigator.gpu, 'core');
  if (!opened) return { error: 'navigator.gpu has no adapter' };
  const gpu = new WebGpuBackend(opened);
  const onGpu = await run(gpu, steps);
  const onRef = await run(new RefBackend(), steps);
  // the reductions in the device's flavor (subgroups where it has them) and in the workgroup tree, against ref
  const tree = new WebGpuBackend(opened, { subgroups: false });
  const reductions = { flavor: gpu.subgroupReductions ? 'subgroups' : 'tree', errors: await reductionErrors(gpu),
    treeErrors: await reductionErrors(tree) };
  gpu.destroy();
  return { adapter: opened.report, features: opened.report.features, gpu: onGpu, ref: onRef, reductions };
};
