// Causal attention, flash style. q: [B, Tq, H, D]; k, v: [B, Tk, Hkv, D] with batch stride kvs; query i sits at
// position off + i (off = Tk - Tq) and sees keys j <= off + i; query head h reads kv head h / (H / Hkv).
//
// Forward: a workgroup holds 64 query rows of one (b, h), one per invocation; it walks the keys in tiles of KT rows
// of K and V staged in workgroup memory, keeping each row's running max, running sum and output (online softmax),
// and saves lse = max + log(sum). Nothing of size Tq x Tk is ever stored.
// Backward from lse, in three kernels so none binds more than 8 storage buffers (some software adapters' limit):
// delta = rowsum(dout * out); dq += scale dS K per query row (keys in tiles, like the forward); dk += scale dS^T Q
// and dv += P^T dO per key row, the rows of every query head of its group in tiles. dS = P (dP - delta), dP = dO V^T.
// Every output element is owned by one invocation: no atomics, a fixed summation order.

import type { KernelSource } from '../program.js';
import { elementwise } from './common.js';

/** invocations (rows) per attention workgroup */
export const ATTENTION_ROWS = 64;
/** the largest head dimension: each invocation keeps up to 4 rows of D floats in registers */
export const ATTENTION_MAX_D = 256;

/** rows of the K/V (or Q/dO) tiles: two tiles of KT x D floats in 8 KiB of workgroup memory */
export function tileRows(D: number): number {
  return Math.max(1, Math.min(32, Math.floor(1024 / D)));
}

const f32s = (...names: string[]) => names.map(name => ({ name, type: 'f32' as const }));
const SHAPE: KernelSource['uniforms'] = [
  ...['B', 'Tq', 'Tk', 'H', 'Hkv', 'group', 'off', 'kvs'].map(name => ({ name, type: 'u32' as const })),
  { name: 'scale', type: 'f32' },
];

/**
 * The forward's and dq's opening: head-dim and key-tile constants, the shared K/V tiles, and for this invocation
 * its batch b, head h, kv head hk (grouped-query), the workgroup's first query row i0, its own row i and whether
 * that row exists.
 */
const queryRowsPrologue = (D: number, KT: number): string => `const D = ${D}u;
const KT = ${KT}u;
var<workgroup> Ks: array<f32, ${KT * D}>;
var<workgroup> Vs: array<f32, ${KT * D}>;
${HEADER} {
  let b = wid.z; let h = wid.y; let hk = h / u.group;
  let i0 = wid.x * ${ATTENTION_ROWS}u;
  let i = i0 + lid;
  let live = i < u.Tq;`;

/** The forward's and dq's inner loop head: keys and values j0 .. j0+KT-1 of kv head hk into shared memory. */
const LOAD_KV_TILE = `    for (var e = lid; e < KT * D; e += ${ATTENTION_ROWS}u) {
      let j = j0 + e / D;
      if (j < u.Tk) {
        let ko = b * u.kvs + (j * u.Hkv + hk) * D + e % D;
        Ks[e] = k[ko];
        Vs[e] = v[ko];
      }
    }
    workgroupBarrier();`;

const HEADER = `@compute @workgroup_size(${ATTENTION_ROWS})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u)`;

function specialised(name: string, D: number, make: (D: number, KT: number) => KernelSource): KernelSource {
  const key = `${name}_D${D}`;
  let k = cache.get(key);
  if (!k) { k = make(D, tileRows(D)); cache.set(key, k); }
  return k;
}
const cache = new Map<string, KernelSource>();

/** out, lse from q, k, v; grid [ceil(Tq / 64), H, B] */
export function attentionForwardKernel(D: number): KernelSource {
  return specialised('attention_forward', D, (D, KT) => ({
    name: `attention_forward_D${D}`,
    buffers: f32s('q', 'k', 'v', 'out', 'lse'),
    uniforms: SHAPE,
    code: `
${queryRowsPrologue(D, KT)}
  let qo = ((b * u.Tq + min(i, u.Tq - 1u)) * u.H + h) * D;
  var qv: array<f32, ${D}>;
  var o: array<f32, ${D}>;
  for (var d = 0u; d < D; d++) { qv[d] = q[qo + d] * u.scale; }
  var m = -3.4e38;
  var l = 0.0;
  let last = u.off + min(i, u.Tq - 1u);
  let wg_last = u.off + min(i0 + ${ATTENTION_ROWS - 1}u, u.Tq - 1u);
  for (var j0 = 0u; j0 <= wg_last; j0 += KT) {
${LOAD_KV_TILE}
    if (live && j0 <= last) {
      let n = min(KT, last + 1u - j0);
      var sc: array<f32, ${KT}>;
      var tmax = m;
      for (var jj = 0u; jj < n; jj++) {
        var s = 0.0;
        for (var d = 0u; d < D; d++) { s = fma(qv[d], Ks[jj * D + d], s); }
        sc[jj] = s;
        tmax = max(tmax, s);
      }
      let corr = exp(m - tmax);
      l = l * corr;
      for (var d = 0u; d < D; d++) { o[d] = o[d] * corr; }
      for (var jj = 0u; jj < n; jj++) {
        let p = exp(sc[jj] - tmax);
        l += p;
        for (var d = 0u; d < D; d++) { o[d] = fma(p, Vs[jj * D + d], o[d]); }
      }
      m = tmax;
    }
    workgroupBarrier();
  }
  if (live) {
    for (var d = 0u; d < D; d++) { out[qo + d] = o[d] / l; }
    lse[(b * u.H + h) * u.Tq + i] = m + log(l);
  }
}`,
  }));
}

/** delta[b, h, i] = sum_d dout[b, i, h, d] out[b, i, h, d]; n = B*H*Tq */
export function attentionDeltaKernel(D: number): KernelSource {
  return specialised('attention_delta', D, D => elementwise(
    `attention_delta_D${D}`, ['dout', 'out', 'delta'], [['Tq', 'u32'], ['H', 'u32']],
    `let t = i % u.Tq; let bh = i / u.Tq; let h = bh % u.H; let b = bh / u.H;
  let o = ((b * u.Tq + t) * u.H + h) * ${D}u;
  var s = 0.0;
  for (var d = 0u; d < ${D}u; d++) { s = fma(dout[o + d], out[o + d], s); }
  delta[i] = s;`));
}

/** dq += scale dS K; grid [ceil(Tq / 64), H, B] */
export function attentionDqKernel(D: number): KernelSource {
  return specialised('attention_dq', D, (D, KT) => ({
    name: `attention_dq_D${D}`,
    buffers: f32s('dout', 'q', 'k', 'v', 'lse', 'delta', 'dq'),
    uniforms: SHAPE,
    code: `
${queryRowsPrologue(D, KT)}
  let ic = min(i, u.Tq - 1u);
  let qo = ((b * u.Tq + ic) * u.H + h) * D;
  let ro = (b * u.H + h) * u.Tq + ic;
  let L = lse[ro];
  let dl = delta[ro];
  var qv: array<f32, ${D}>;
  var dov: array<f32, ${D}>;
  var g: array<f32, ${D}>;
  for (var d = 0u; d < D; d++) { qv[d] = q[qo + d] * u.scale; dov[d] = dout[qo + d]; }
  let last = u.off + ic;
  let wg_last = u.off + min(i0 + ${ATTENTION_ROWS - 1}u, u.Tq - 1u);
  for (var j0 = 0u; j0 <= wg_last; j0 += KT) {
${LOAD_KV_TILE}
    if (live && j0 <= last) {
      let n = min(KT, last + 1u - j0);
      for (var jj = 0u; jj < n; jj++) {
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < D; d++) { s = fma(qv[d], Ks[jj * D + d], s); dp = fma(dov[d], Vs[jj * D + d], dp); }
        let ds = exp(s - L) * (dp - dl) * u.scale;
        for (var d = 0u; d < D; d++) { g[d] = fma(ds, Ks[jj * D + d], g[d]); }
      }
    }
    workgroupBarrier();
  }
  if (live) { for (var d = 0u; d < D; d++) { dq[qo + d] = dq[qo + d] + g[d]; } }
}`,
  }));
}

/** dk += scale dS^T Q, dv += P^T dO, per key row; grid [ceil(Tk / 64), Hkv, B] */
export function attentionDkvKernel(D: number): KernelSource {
  return specialised('attention_dkv', D, (D, QT) => ({
    name: `attention_dkv_D${D}`,
    buffers: f32s('dout', 'q', 'k', 'v', 'lse', 'delta', 'dk', 'dv'),
    uniforms: SHAPE,
    code: `
const D = ${D}u;
const QT = ${QT}u;
var<workgroup> Qs: array<f32, ${QT * D}>;
var<workgroup> Os: array<f32, ${QT * D}>;
var<workgroup> Ls: array<f32, ${QT}>;
var<workgroup> Ds: array<f32, ${QT}>;
${HEADER} {
  let b = wid.z; let hk = wid.y;
  let j0 = wid.x * ${ATTENTION_ROWS}u;
  let j = j0 + lid;
  let live = j < u.Tk;
  let ko = b * u.kvs + (min(j, u.Tk - 1u) * u.Hkv + hk) * D;
  var kv: array<f32, ${D}>;
  var vv: array<f32, ${D}>;
  var gk: array<f32, ${D}>;
  var gv: array<f32, ${D}>;
  for (var d = 0u; d < D; d++) { kv[d] = k[ko + d]; vv[d] = v[ko + d]; }
  // query i sees key j when off + i >= j: the first query of this workgroup's keys is j0 - off (or 0)
  let first = select(0u, j0 - u.off, j0 > u.off);
  for (var h = hk * u.group; h < (hk + 1u) * u.group; h++) {
    for (var i0 = first; i0 < u.Tq; i0 += QT) {
      for (var e = lid; e < QT * D; e += ${ATTENTION_ROWS}u) {
        let i = i0 + e / D;
        if (i < u.Tq) {
          let qo = ((b * u.Tq + i) * u.H + h) * D + e % D;
          Qs[e] = q[qo];
          Os[e] = dout[qo];
        }
      }
      for (var e = lid; e < QT; e += ${ATTENTION_ROWS}u) {
        if (i0 + e < u.Tq) { Ls[e] = lse[(b * u.H + h) * u.Tq + i0 + e]; Ds[e] = delta[(b * u.H + h) * u.Tq + i0 + e]; }
      }
      workgroupBarrier();
      if (live) {
        for (var ii = 0u; ii < QT; ii++) {
          let i = i0 + ii;
          if (i >= u.Tq) { break; }
          if (u.off + i < j) { continue; }
          var s = 0.0;
          var dp = 0.0;
          for (var d = 0u; d < D; d++) { s = fma(Qs[ii * D + d], kv[d], s); dp = fma(Os[ii * D + d], vv[d], dp); }
          let p = exp(s * u.scale - Ls[ii]);
          let ds = p * (dp - Ds[ii]) * u.scale;
          for (var d = 0u; d < D; d++) {
            gv[d] = fma(p, Os[ii * D + d], gv[d]);
            gk[d] = fma(ds, Qs[ii * D + d], gk[d]);
          }
        }
      }
      workgroupBarrier();
    }
  }
  if (live) {
    for (var d = 0u; d < D; d++) { dk[ko + d] = dk[ko + d] + gk[d]; dv[ko + d] = dv[ko + d] + gv[d]; }
  }
}`,
  }));
}

