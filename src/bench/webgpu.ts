// `nanochat bench kernels --backend webgpu` and `nanochat bench train --backend webgpu`: the GPU backend beside the
// native CPU backend in the same run, on the same shapes, with shares of the adapter's measured f32 (and f16) FMA
// peak (src/tensor/webgpu/peak.ts; WebGPU reports no clock or core count to compute one from).
//
// Timing a GPU: kernels are only queued when called, so each case queues `reps` calls and waits for a read of one
// float; the time per call is the total over reps. On a software adapter (Mesa's llvmpipe in CI) the figures only
// show that the backend runs: it computes on the same CPU cores as native.
//
// FLOP conventions as `bench kernels`: matmul 2*M*N*K; causal attention forward 2 * 2*B*H*(T*T/2)*D, forward +
// backward 3.5x that; RMSNorm moves 5 x 4 bytes per element forward + backward, cross-entropy 3 x 4 per logit.

import { parse, num, type FlagSpec } from '../cli/flags.js';
import { UserError } from '../common/errors.js';
import type { Backend, Buf } from '../tensor/backend.js';
import { createBackend, setBackend } from '../tensor/backends.js';
import { machinePeakFlops, peakText } from '../tensor/peak.js';
import { cpuName, readCpu } from '../tensor/cpu.js';
import { configFromDepth } from '../model/gpt.js';
import { syntheticStep } from '../train/synthetic-step.js';
import { openNodeWebGpu } from '../tensor/webgpu-node.js';
import type { WebGpuBackend } from '../tensor/webgpu/backend.js';
import { measureGpuPeak, type GpuPeak } from '../tensor/webgpu/peak.js';

const KERNEL_FLAGS: FlagSpec = {
  backend: { type: 'string', help: 'webgpu: this benchmark (the GPU beside native)' },
  reps: { type: 'string', default: '5', help: 'timed repetitions per case' },
};

const TRAIN_FLAGS: FlagSpec = {
  backend: { type: 'string', help: 'webgpu: this benchmark (the GPU beside native)' },
  steps: { type: 'string', default: '3', help: 'timed optimizer steps per case (after one warm-up step)' },
  depths: { type: 'string', default: '4', help: 'comma-separated depths (head dim 64 to depth 4, else 128)' },
  rows: { type: 'string', default: '16', help: 'rows of 512 tokens per optimizer step' },
};

function rnd(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; a[i] = (s / 4294967296 * 2 - 1) * scale; }
  return a;
}

/** Seconds per call of fn on `be`: reps queued calls, then a read of one float waits for them (after a warm-up). */
async function timeOn(be: Backend, fn: () => void, reps: number, probe: Buf): Promise<number> {
  fn();
  await be.read(probe.subarray(0, 1));
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  await be.read(probe.subarray(0, 1));
  return (performance.now() - t0) / 1000 / reps;
}

/** Device (or host) copies of host arrays on `be`. */
function upload(be: Backend, ...arrays: Float32Array[]): Buf[] {
  return arrays.map((a) => { const b = be.alloc(a.length); be.write(b, a); return b; });
}

async function openGpu(say: (s: string) => void): Promise<{ gpu: WebGpuBackend; peak: GpuPeak }> {
  const gpu = await openNodeWebGpu();
  const info = gpu.adapterInfo;
  say(`webgpu adapter: ${[info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' | ')}` +
    ` (${info.featureLevel}${gpu.isSoftware ? ', software: it computes on the CPU' : ''}; features ${info.features.join(', ') || 'none'}` +
    `; reductions on ${gpu.subgroupReductions ? 'subgroups' : 'a workgroup tree'})`);
  const peak = await measureGpuPeak(gpu.device, 3);
  say(`adapter FMA peak (measured): f32 ${(peak.f32 / 1e9).toFixed(1)} GFLOP/s` +
    (peak.f16 ? `, f16 ${(peak.f16 / 1e9).toFixed(1)} GFLOP/s` : ', no shader-f16'));
  return { gpu, peak };
}

export async function benchKernels(argv: string[]): Promise<void> {
  const p = parse('bench kernels', 'Kernel throughput of the webgpu backend beside native (--backend webgpu).', KERNEL_FLAGS, argv);
  const reps = num(p, 'reps', { min: 1 });
  const say = (s: string) => process.stdout.write(s + '\n');
  const native = createBackend('native');
  const cpuPeak = machinePeakFlops();
  say(`CPU ${cpuName(readCpu())}; native f32 peak ${peakText(cpuPeak)}`);
  const { gpu, peak } = await openGpu(say);
  const small = gpu.isSoftware; // llvmpipe: shapes that finish in seconds
  say(`${'case'.padEnd(34)} ${'webgpu'.padStart(10)} ${'native'.padStart(10)}  webgpu/native  unit  webgpu share of f32 peak`);
  const row = (name: string, g: number, n: number, unit: 'GFLOP/s' | 'GB/s') => say(`${name.padEnd(34)} ` +
    `${g.toFixed(1).padStart(10)} ${n.toFixed(1).padStart(10)}  ${(g / n).toFixed(2).padStart(12)}x  ${unit}` +
    (unit === 'GFLOP/s' ? `  ${(100 * g * 1e9 / peak.f32).toFixed(0)}%` : ''));
  // each case runs the same job on both backends: inputs uploaded to each, timed on each
  const both = async (name: string, unit: 'GFLOP/s' | 'GB/s', amount: number, inputs: Float32Array[], outputs: number[],
    call: (be: Backend, bufs: Buf[]) => void): Promise<void> => {
    const seconds: number[] = [];
    for (const be of [gpu, native] as Backend[]) {
      const bufs = [...upload(be, ...inputs), ...outputs.map((n) => be.alloc(n))];
      seconds.push(await timeOn(be, () => call(be, bufs), reps, bufs[bufs.length - 1]));
      if (be === gpu) for (const b of bufs) be.release(b);
    }
    row(name, amount / seconds[0] / 1e9, amount / seconds[1] / 1e9, unit);
  };
  const shapes = small ? [[256, 256, 256], [512, 128, 512]] : [[4096, 1024, 1024], [4096, 256, 4096], [2048, 2048, 2048]];
  for (const [M, K, N] of shapes) {
    for (const [transA, transB, tag] of [[false, false, 'NN'], [true, false, 'TN'], [false, true, 'NT'], [true, true, 'TT']] as const) {
      await both(`matmul ${M}x${K}x${N} ${tag}`, 'GFLOP/s', 2 * M * N * K, [rnd(M * K), rnd(K * N)], [M * N],
        (be, [a, b, c]) => be.matmul(a, b, c, { batch: 1, M, N, K, transA, transB, accumulate: false }));
    }
  }
  const [B, T, H, D] = small ? [1, 128, 2, 64] : [4, 1024, 8, 128];
  const qkv = B * T * H * D, scale = 1 / Math.sqrt(D), shape = { B, Tq: T, Tk: T, H, Hkv: H, D, scale };
  const attFlop = 2 * 2 * B * H * (T * T / 2) * D;
  await both(`attention fwd B${B} T${T} H${H} D${D}`, 'GFLOP/s', attFlop, [rnd(qkv), rnd(qkv), rnd(qkv)], [B * H * T, qkv],
    (be, [q, k, v, lse, o]) => be.attentionForward(q, k, v, o, lse, shape));
  await both(`attention fwd+bwd B${B} T${T} H${H} D${D}`, 'GFLOP/s', 3.5 * attFlop,
    [rnd(qkv), rnd(qkv), rnd(qkv), rnd(qkv)], [B * H * T, qkv, qkv, qkv, qkv],
    (be, [q, k, v, dout, lse, o, dq, dk, dv]) => {
      be.attentionForward(q, k, v, o, lse, shape);
      be.attentionBackward(dout, q, k, v, o, lse, dq, dk, dv, shape);
    });
  const [rows, dim] = small ? [2048, 256] : [16384, 1024];
  await both(`rmsnorm fwd+bwd ${rows}x${dim}`, 'GB/s', 5 * 4 * rows * dim, [rnd(rows * dim), rnd(rows * dim)], [rows, rows * dim, rows * dim],
    (be, [x, dy, rstd, y, dx]) => {
      be.rmsnormForward(x, y, rstd, rows, dim, 1e-6);
      be.rmsnormBackward(dy, y, rstd, dx, rows, dim, false);
    });
  const [ceRows, V] = small ? [512, 4096] : [8192, 32768];
  const targets = Int32Array.from({ length: ceRows }, (_, i) => (i * 7919) % V);
  await both(`softcap cross-entropy fwd+bwd ${ceRows}x${V}`, 'GB/s', 3 * 4 * ceRows * V, [rnd(ceRows * V, 20), rnd(ceRows)],
    [ceRows, ceRows, ceRows * V], (be, [raw, dloss, losses, lse, draw]) => {
      be.softcapCrossEntropyForward(raw, targets, losses, lse, ceRows, V, V, 15);
      be.softcapCrossEntropyBackward(raw, targets, lse, dloss, draw, ceRows, V, V, 15);
    });
  gpu.destroy();
}

export async function benchTrain(argv: string[]): Promise<void> {
  const p = parse('bench train', 'Training tokens/s and MFU of the webgpu backend beside native (--backend webgpu).', TRAIN_FLAGS, argv);
  const steps = num(p, 'steps', { min: 1 }), rowsPerStep = num(p, 'rows', { min: 1 });
  const depths = String(p.values.depths).split(',').map(Number);
  if (depths.some((d) => !Number.isInteger(d) || d < 1)) throw new UserError(`--depths takes positive integers, got '${p.values.depths}'`);
  const say = (s: string) => process.stdout.write(s + '\n');
  const native = createBackend('native');
  const cpuPeak = machinePeakFlops();
  say(`CPU ${cpuName(readCpu())}; native f32 peak ${peakText(cpuPeak)}`);
  const { gpu, peak } = await openGpu(say);
  const SEQ = 512, VOCAB = 8192;
  for (const depth of depths) {
    const headDim = depth <= 4 ? 64 : 128;
    const figures: { name: string; tps: number; mfu: number }[] = [];
    for (const [be, peakFlops] of [[gpu, peak.f32], [native, cpuPeak.flops]] as [Backend, number][]) {
      setBackend(be);
      const run = syntheticStep(configFromDepth(depth, VOCAB, SEQ, { headDim }), rowsPerStep);
      await run.step();
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) await run.step();
      const dt = (performance.now() - t0) / 1000 / steps;
      const tps = run.tokensPerStep / dt;
      figures.push({ name: be.name, tps, mfu: (run.model.flopsPerToken() * tps) / peakFlops });
      run.dispose();
    }
    const [g, n] = figures;
    say(`d${depth} (${rowsPerStep} x ${SEQ} tokens a step, vocab ${VOCAB}): webgpu ${Math.round(g.tps)} tok/s, MFU ` +
      `${(100 * g.mfu).toFixed(1)}% of the adapter's f32 peak | native ${Math.round(n.tps)} tok/s, MFU ` +
      `${(100 * n.mfu).toFixed(1)}% of the CPU's | webgpu/native ${(g.tps / n.tps).toFixed(2)}x`);
  }
  setBackend(native);
  gpu.destroy();
}
