// RMSNorm (one workgroup per row, a tree reduction in workgroup memory) and the rotary embedding.

import type { KernelSource } from '../program.js';
import { ENTRY, WG, WORKGROUP_INDEX, elementwise, store } from './common.js';

/** WGSL: `red` workgroup memory and rowsum(v), the sum of each invocation's v over the workgroup. */
export const ROW_REDUCE = `
var<workgroup> red: array<f32, ${WG}>;
fn rowsum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}`;

const f32s = (...names: string[]) => names.map(name => ({ name, type: 'f32' as const }));

export const RMSNORM_FORWARD: KernelSource = {
  name: 'rmsnorm_forward',
  buffers: f32s('x', 'y', 'rstd'),
  uniforms: [{ name: 'rows', type: 'u32' }, { name: 'dim', type: 'u32' }, { name: 'eps', type: 'f32' }],
  code: `${ROW_REDUCE}
${ENTRY} {
  ${WORKGROUP_INDEX}
  let r = wg_index;
  if (r >= u.rows) { return; }
  let o = r * u.dim;
  var ss = 0.0;
  for (var c = lid; c < u.dim; c += ${WG}u) { let v = x[o + c]; ss += v * v; }
  let s = inverseSqrt(rowsum(ss, lid) / f32(u.dim) + u.eps);
  if (lid == 0u) { rstd[r] = s; }
  for (var c = lid; c < u.dim; c += ${WG}u) { y[o + c] = x[o + c] * s; }
}`,
};

export const RMSNORM_BACKWARD: KernelSource = {
  name: 'rmsnorm_backward',
  buffers: f32s('dy', 'y', 'rstd', 'dx'),
  uniforms: [{ name: 'rows', type: 'u32' }, { name: 'dim', type: 'u32' }, { name: 'acc', type: 'u32' }],
  code: `${ROW_REDUCE}
${ENTRY} {
  ${WORKGROUP_INDEX}
  let r = wg_index;
  if (r >= u.rows) { return; }
  let o = r * u.dim;
  var dot = 0.0;
  for (var c = lid; c < u.dim; c += ${WG}u) { dot += dy[o + c] * y[o + c]; }
  let m = rowsum(dot, lid) / f32(u.dim);
  let s = rstd[r];
  for (var c = lid; c < u.dim; c += ${WG}u) {
    let g = s * (dy[o + c] - y[o + c] * m);
    ${store('dx', 'o + c', 'g')}
  }
}`,
};

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
