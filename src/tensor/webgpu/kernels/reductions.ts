// Reductions that stay on the device, in two passes with a fixed order (so results repeat bit for bit):
// PARTIALS: REDUCE_GROUPS workgroups each sum a strided share of x (or x^2) into partials[w], every invocation
//   with a compensated (Kahan) running sum, then a workgroup reduction (workgroup-reduce.ts: a tree, or subgroups);
// FINISH: one workgroup sums `count` partials and writes out[0] = the sum, sqrt(sum) or sqrt(sum) + eps.
// normalize and clipGradNorm then scale by a factor read from device memory, never from the host.

import type { KernelSource } from '../program.js';
import { WG, elementwise } from './common.js';
import { entry, reduceEnables, reduceHelpers, rowsum } from './workgroup-reduce.js';

/** Workgroups of the first pass: partials per reduced buffer. */
export const REDUCE_GROUPS = 64;

/** `sg`: reduce with subgroups (workgroup-reduce.ts) */
export const reducePartials = (sg: boolean): KernelSource => ({
  name: `reduce_partials${sg ? '_sg' : ''}`,
  buffers: [{ name: 'x', type: 'f32' }, { name: 'partials', type: 'f32' }],
  uniforms: [{ name: 'n', type: 'u32' }, { name: 'squares', type: 'u32' }],
  enables: reduceEnables(sg),
  code: `${reduceHelpers(sg)}
${entry(sg)} {
  var s = 0.0;
  var comp = 0.0;
  for (var i = wid.x * ${WG}u + lid; i < u.n; i += ${REDUCE_GROUPS * WG}u) {
    var v = x[i];
    if (u.squares != 0u) { v = v * v; }
    let y = v - comp;
    let t = s + y;
    comp = (t - s) - y;
    s = t;
  }
  let total = ${rowsum(sg, 's')};
  if (lid == 0u) { partials[wid.x] = total; }
}`,
});

/** out[0] from partials[0 .. count): mode 0 sum, 1 sqrt(sum), 2 sqrt(sum) + eps. */
export const reduceFinish = (sg: boolean): KernelSource => ({
  name: `reduce_finish${sg ? '_sg' : ''}`,
  buffers: [{ name: 'partials', type: 'f32' }, { name: 'out', type: 'f32' }],
  uniforms: [{ name: 'count', type: 'u32' }, { name: 'mode', type: 'u32' }, { name: 'eps', type: 'f32' }],
  enables: reduceEnables(sg),
  code: `${reduceHelpers(sg)}
${entry(sg)} {
  var s = 0.0;
  var comp = 0.0;
  for (var i = lid; i < u.count; i += ${WG}u) {
    let y = partials[i] - comp;
    let t = s + y;
    comp = (t - s) - y;
    s = t;
  }
  let total = ${rowsum(sg, 's')};
  if (lid == 0u) {
    if (u.mode == 0u) { out[0] = total; } else if (u.mode == 1u) { out[0] = sqrt(total); }
    else { out[0] = sqrt(total) + u.eps; }
  }
}`,
});

/** x /= divisor[0] */
export const DIVIDE_BY_SCALAR = elementwise('divide_by_scalar', ['x', 'divisor'], [], 'x[i] = x[i] / divisor[0];');

/** g *= maxNorm / (norm + 1e-6) when norm[0] > maxNorm (PyTorch's clip_grad_norm_ factor) */
export const CLIP_BY_NORM = elementwise(
  'clip_by_norm', ['g', 'norm'], [['max_norm', 'f32']],
  'let nrm = norm[0]; if (nrm > u.max_norm) { g[i] = g[i] * (u.max_norm / (nrm + 1e-6)); }');
