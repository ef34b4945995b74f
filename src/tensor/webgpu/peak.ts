// The adapter's float32 (and float16) FMA peak, measured: WebGPU reports no clock or core count, so the MFU of
// `bench train --backend webgpu` and the share-of-peak of `bench kernels` divide by this instead.
//
// Every invocation runs CHAINS independent fma chains (enough to hide the FMA latency on NVIDIA, AMD and Apple
// GPUs: 4-cycle latency x 2 issue) for ITERS steps on registers only; the result is written once so the compiler
// cannot drop the loop, and the trip count comes from a uniform so it cannot unroll it either (Mesa's llvmpipe
// unrolled a constant 4096-trip loop and spent minutes compiling it). FLOPs = 2 x 4 lanes x CHAINS x ITERS x
// invocations. The dispatch grows from 16 workgroups, doubling, until one takes 20 ms: enough to fill an H200, and
// short enough for a laptop GPU's watchdog (Windows resets a GPU after 2 s of one dispatch). The best of `reps`
// timed dispatches at that size counts. No Node module is imported here: the same file times a browser's GPU.

import { gpuWait } from './keep-alive.js';

const CHAINS = 8;
const ITERS = 4096;
const WORKGROUP = 256;

function shader(type: 'f32' | 'f16'): string {
  const enable = type === 'f16' ? 'enable f16;\n' : '';
  const vec = `vec4<${type}>`;
  const init = Array.from({ length: CHAINS }, (_, c) => `  var a${c} = ${vec}(${type}(seed) + ${type}(${c}));`).join('\n');
  const step = Array.from({ length: CHAINS }, (_, c) => `    a${c} = fma(a${c}, m, k);`).join('\n');
  const total = Array.from({ length: CHAINS }, (_, c) => `a${c}`).join(' + ');
  return `${enable}@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> iters: vec4<u32>;
@compute @workgroup_size(${WORKGROUP}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let seed = f32(gid.x) * 1e-7;
  let m = ${vec}(${type}(0.999));
  let k = ${vec}(${type}(0.001));
${init}
  for (var i = 0u; i < iters.x; i++) {
${step}
  }
  let s = ${total};
  if (s.x == ${type}(-1.0)) { out[gid.x] = f32(s.y); }
}`;
}

export interface GpuPeak { f32: number; f16: number | null }

const MAX_GROUPS = 1 << 16;

/** FLOP/s of fma on vec4 lanes, f32 and (where the device has shader-f16) f16: best of `reps` timed dispatches. */
export async function measureGpuPeak(device: GPUDevice, reps = 5): Promise<GpuPeak> {
  const out = device.createBuffer({ size: 4 * WORKGROUP * MAX_GROUPS, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  // the wait: mapping a buffer the dispatch wrote, under gpuWait (Dawn's promises alone do not keep Node alive)
  const probe = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const trips = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(trips, 0, Uint32Array.of(ITERS, 0, 0, 0));
  const time = async (type: 'f32' | 'f16'): Promise<number> => {
    const module = device.createShaderModule({ code: shader(type) });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [
      { binding: 0, resource: { buffer: out } }, { binding: 1, resource: { buffer: trips } },
    ] });
    const run = async (groups: number): Promise<number> => {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(groups);
      pass.end();
      enc.copyBufferToBuffer(out, 0, probe, 0, 4);
      const t0 = performance.now();
      device.queue.submit([enc.finish()]);
      await gpuWait(probe.mapAsync(GPUMapMode.READ));
      probe.unmap();
      return (performance.now() - t0) / 1000;
    };
    let groups = 16;
    await run(groups); // compile and warm up
    while (groups < MAX_GROUPS && (await run(groups)) < 0.02) groups *= 2;
    let best = Infinity;
    for (let i = 0; i < reps; i++) best = Math.min(best, await run(groups));
    return (2 * 4 * CHAINS * ITERS * WORKGROUP * groups) / best;
  };
  try {
    return { f32: await time('f32'), f16: device.features.has('shader-f16') ? await time('f16') : null };
  } finally {
    out.destroy();
    trips.destroy();
    probe.destroy();
  }
}
