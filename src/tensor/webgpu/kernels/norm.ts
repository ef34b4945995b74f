// RMSNorm (one workgroup per row, its sum a workgroup reduction: workgroup-reduce.ts) and the rotary embedding.

import type { KernelSource } from '../program.js';
import { WG, WORKGROUP_INDEX, elementwise, store } from './common.js';
import { entry, reduceEnables, reduceHelpers, rowsum } from './workgroup-reduce.js';

const f32s = (...names: string[]) => names.map(name => ({ name, type: 'f32' as const }));

/** `sg`: reduce with subgroups (workgroup-reduce.ts) */
export const rmsnormForward = (sg: boolean): KernelSource => ({
  name: `rmsnorm_forward${sg ? '_sg' : ''}`,
  buffers: f32s('x', 'y', 'rstd'),
  uniforms: [{ name: 'rows', type: 'u32' }, { name: 'dim', type: 'u32' }, { name: 'eps', type: 'f32' }],
  enables: reduceEnables(sg),
  code: `${reduceHelpers(sg)}
${entry(sg)} {
  ${WORKGROUP_INDEX}
  let r = wg_index;
  if (r >= u.rows) { return; }
  let o = r * u.dim;
  var ss = 0.0;
  for (var c = lid; c < u.dim; c += ${WG}u) { let v = x[o + c]; ss += v * v; }
  let s = inverseSqrt(${rowsum(sg, 'ss')} / f32(u.dim) + u.eps);
  if (lid == 0u) { rstd[r] = s; }
  for (var c = lid; c < u.dim; c += ${WG}u) { y[o + c] = x[o + c] * s; }
}`,
});

export const rmsnormBackward = (sg: boolean): KernelSource => ({
  name: `rmsnorm_backward${sg ? '_sg' : ''}`,
  buffers: f32s('dy', 'y', 'rstd', 'dx'),
  uniforms: [{ name: 'rows', type: 'u32' }, { name: 'dim', type: 'u32' }, { name: 'acc', type: 'u32' }],
  enables: reduceEnables(sg),
  code: `${reduceHelpers(sg)}
${entry(sg)} {
  ${WORKGROUP_INDEX}
  let r = wg_index;
  if (r >= u.rows) { return; }
  let o = r * u.dim;
  var dot = 0.0;
  for (var c = lid; c < u.dim; c += ${WG}u) { dot += dy[o + c] * y[o + c]; }
  let m = ${rowsum(sg, 'dot')} / f32(u.dim);
  let s = rstd[r];
  for (var c = lid; c < u.dim; c += ${WG}u) {
    let g = s * (dy[o + c] - y[o + c] * m);
    ${store('dx', 'o + c', 'g')}
  }
}`,
});

/** One invocation per channel pair (i, i + D/2) of every (b, t, h): n = B*T*H*D/2. */
export const ROPE = elementwise(
  'rope', ['src', 'dst', 'cos', 'sin'],
  [['T', 'u32'], ['H', 'u32'], ['half', 'u32'], ['pos0', 'u32'], ['sgn', 'f32'], ['acc', 'u32']],
  `let p = i % u.half; let bth = i / u.half;
  let t = (bth / u.H) % u.T;
  let o = bth * 2u * u.half + p;
  let tab = (u.pos0 + t) * u.half + p;
  let c = cos[tab]; let s = u.sgn * sin[tab];
  let x1 = src[o]; let x2 = src[o + u.half];
  let y1 = x1 * c + x2 * s; let y2 = -x1 * s + x2 * c;
  ${store('dst', 'o', 'y1')}
  ${store('dst', 'o + u.half', 'y2')}`);
