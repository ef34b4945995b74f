// Embedding lookup and its scatter-add backward. WGSL has no float atomics, and ids repeat (the same token twice in
// a batch), so the host groups the positions of each distinct id (a counting sort of the ids it holds anyway) and
// each invocation owns one (distinct id, column) element of the table, summing its dout entries in position order
// before adding them in: no two invocations touch one element, and the sums come out in a fixed order. This has
// distinct ids x dim invocations, where one invocation per column walking all n ids had only dim.

import type { KernelSource } from '../program.js';
import { ENTRY, WG } from './common.js';

export const EMBEDDING_FORWARD: KernelSource = {
  name: 'embedding_forward',
  buffers: [{ name: 'table', type: 'f32' }, { name: 'ids', type: 'i32' }, { name: 'out', type: 'f32' }],
  uniforms: [{ name: 'n', type: 'u32' }, { name: 'dim', type: 'u32' }],
  code: `${ENTRY} {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= u.n * u.dim) { return; }
  let row = i / u.dim;
  out[i] = table[u32(ids[row]) * u.dim + (i - row * u.dim)];
}`,
};

/**
 * One invocation per (distinct id, column): rows[u] is the u-th distinct id, positions[starts[u] .. starts[u+1])
 * the places it occurs, in order; n = distinct ids x dim.
 */
export const EMBEDDING_BACKWARD: KernelSource = {
  name: 'embedding_backward',
  buffers: [
    { name: 'dout', type: 'f32' }, { name: 'rows', type: 'i32' }, { name: 'starts', type: 'i32' },
    { name: 'positions', type: 'i32' }, { name: 'dtable', type: 'f32' },
  ],
  uniforms: [{ name: 'n', type: 'u32' }, { name: 'dim', type: 'u32' }],
  code: `${ENTRY} {
  let t = gid.x + gid.y * nwg.x * ${WG}u;
  if (t >= u.n) { return; }
  let r = t / u.dim;
  let c = t - r * u.dim;
  var s = 0.0;
  for (var p = u32(starts[r]); p < u32(starts[r + 1u]); p++) { s += dout[u32(positions[p]) * u.dim + c]; }
  let o = u32(rows[r]) * u.dim + c;
  dtable[o] = dtable[o] + s;
}`,
};

/** The ids grouped by value (a counting sort, stable): what EMBEDDING_BACKWARD walks. */
export function groupIds(
  ids: Int32Array, n: number, vocab: number,
): { rows: Int32Array; starts: Int32Array; positions: Int32Array } {
  const counts = new Int32Array(vocab + 1);
  for (let i = 0; i < n; i++) counts[ids[i] + 1]++;
  let distinct = 0;
  for (let v = 1; v <= vocab; v++) if (counts[v] > 0) distinct++;
  const rows = new Int32Array(distinct), starts = new Int32Array(distinct + 1);
  for (let v = 0, u = 0; v < vocab; v++) {
    if (counts[v + 1] === 0) continue;
    rows[u] = v;
    starts[u + 1] = starts[u] + counts[v + 1];
    u++;
  }
  for (let v = 1; v <= vocab; v++) counts[v] += counts[v - 1]; // counts[v] = first slot of id v
  const positions = new Int32Array(n);
  for (let i = 0; i < n; i++) positions[counts[ids[i]]++] = i;
  return { rows, starts, positions };
}
