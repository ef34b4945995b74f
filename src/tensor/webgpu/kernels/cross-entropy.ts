// Cross-entropy fused with log-softmax over rows of logits (row stride >= V for padded vocabularies), plain or on
// soft-capped logits c = cap * tanh(raw / cap) computed on the fly (u.cap = 0 means no cap). The forward takes one
// workgroup per row (max, then sum of exp, each a workgroup reduction: workgroup-reduce.ts); the backward one
// invocation per element.

import type { KernelSource } from '../program.js';
import { ENTRY, SOFTCAP_FN, WG, WORKGROUP_INDEX } from './common.js';
import { entry, reduceEnables, reduceHelpers, rowmax, rowsum } from './workgroup-reduce.js';

const CAPPED = `${SOFTCAP_FN}
fn capped(z: f32) -> f32 { if (u.cap > 0.0) { return softcap(z, u.cap); } return z; }`;

/** `sg`: reduce with subgroups (workgroup-reduce.ts) */
export const crossEntropyForward = (sg: boolean): KernelSource => ({
  name: `cross_entropy_forward${sg ? '_sg' : ''}`,
  buffers: [
    { name: 'logits', type: 'f32' }, { name: 'targets', type: 'i32' }, { name: 'losses', type: 'f32' },
    { name: 'lse', type: 'f32' },
  ],
  uniforms: [
    { name: 'rows', type: 'u32' }, { name: 'V', type: 'u32' }, { name: 'stride', type: 'u32' },
    { name: 'cap', type: 'f32' },
  ],
  enables: reduceEnables(sg),
  code: `${CAPPED}
${reduceHelpers(sg, true)}
${entry(sg)} {
  ${WORKGROUP_INDEX}
  let r = wg_index;
  if (r >= u.rows) { return; }
  let o = r * u.stride;
  var m = -3.4e38;
  for (var j = lid; j < u.V; j += ${WG}u) { m = max(m, capped(logits[o + j])); }
  let top = ${rowmax(sg, 'm')};
  var z = 0.0;
  for (var j = lid; j < u.V; j += ${WG}u) { z += exp(capped(logits[o + j]) - top); }
  let total = ${rowsum(sg, 'z')};
  if (lid == 0u) {
    let l = top + log(total);
    lse[r] = l;
    let t = targets[r];
    if (t < 0) { losses[r] = 0.0; } else { losses[r] = l - capped(logits[o + u32(t)]); }
  }
}`,
});

export const CROSS_ENTROPY_BACKWARD: KernelSource = {
  name: 'cross_entropy_backward',
  buffers: [
    { name: 'logits', type: 'f32' }, { name: 'targets', type: 'i32' }, { name: 'lse', type: 'f32' },
    { name: 'dloss', type: 'f32' }, { name: 'dlogits', type: 'f32' },
  ],
  uniforms: [
    { name: 'n', type: 'u32' }, { name: 'V', type: 'u32' }, { name: 'stride', type: 'u32' },
    { name: 'cap', type: 'f32' },
  ],
  code: `${SOFTCAP_FN}
${ENTRY} {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= u.n) { return; }
  let r = i / u.stride;
  let j = i - r * u.stride;
  let t = targets[r];
  if (t < 0 || j >= u.V) { dlogits[i] = 0.0; return; }
  let g = dloss[r];
  let onehot = select(0.0, 1.0, u32(t) == j);
  if (u.cap > 0.0) {
    let th = tanh_safe(logits[i] / u.cap);
    dlogits[i] = g * (exp(u.cap * th - lse[r]) - onehot) * (1.0 - th * th);
  } else {
    dlogits[i] = g * (exp(logits[i] - lse[r]) - onehot);
  }
}`,
};
