// Batched matmul C[b] = op(A[b]) op(B[b]) (+ C[b]), tiled: a workgroup of 64 invocations computes a 64 x 64 tile
// of C, each invocation an 8 x 8 block in registers (sixteen vec4 accumulators), stepping through K 16 at a time
// with the A and B tiles (2 x 64 x 16 floats = 8 KiB) staged in workgroup memory. Both tiles are k-major, so each
// step of the inner loop gathers four vec4s and does sixteen vec4 FMAs. The tiles are scalar arrays: storing single
// components of a shared vec4 from different invocations is a race in WGSL (a component write may rewrite the
// whole vector, as Metal and HLSL compilers do), which llvmpipe and SwiftShader would never show. The transposes only change
// how tiles are loaded, so they are specialised (four shaders); batch is the z dimension of the grid, and a stride
// of 0 broadcasts one matrix. On llvmpipe (2 cores, 1024^3): scalar 8 x 4 register arrays ran 1.5 GFLOP/s, vec4
// 8 x 4 blocks over 128 invocations 9.5-9.8, these 8 x 8 blocks 12.4-12.7; a K step of 32 or a hand-unrolled
// k loop gained nothing.

import type { KernelSource } from '../program.js';

export const TILE = 64;
const BK = 16;

const ROWS = [0, 1, 2, 3, 4, 5, 6, 7];
/** the A value of block row r: rows 0-3 of the block are the lanes of a0, rows 4-7 those of a1 */
const aOf = (r: number) => `a${r >> 2}.${'xyzw'[r & 3]}`;

const cache = new Map<string, KernelSource>();

export function matmulKernel(transA: boolean, transB: boolean): KernelSource {
  const name = `matmul_${transA ? 't' : 'n'}${transB ? 't' : 'n'}`;
  let k = cache.get(name);
  if (k) return k;
  // element e of a 64 x 16 tile load: (kk, row) with the stored matrix's fast index varying fastest
  const loadA = transA
    ? `let kk = e / ${TILE}u; let row = e % ${TILE}u;
       let gr = m0 + row; let gk = k0 + kk;
       var v = 0.0; if (gr < u.M && gk < u.K) { v = a[bA + gk * u.M + gr]; }`
    : `let row = e / ${BK}u; let kk = e % ${BK}u;
       let gr = m0 + row; let gk = k0 + kk;
       var v = 0.0; if (gr < u.M && gk < u.K) { v = a[bA + gr * u.K + gk]; }`;
  const loadB = transB
    ? `let col = e / ${BK}u; let kk = e % ${BK}u;
       let gc = n0 + col; let gk = k0 + kk;
       var v = 0.0; if (gc < u.N && gk < u.K) { v = b[bB + gc * u.K + gk]; }`
    : `let kk = e / ${TILE}u; let col = e % ${TILE}u;
       let gc = n0 + col; let gk = k0 + kk;
       var v = 0.0; if (gc < u.N && gk < u.K) { v = b[bB + gk * u.N + gc]; }`;
  k = {
    name,
    buffers: [{ name: 'a', type: 'f32' }, { name: 'b', type: 'f32' }, { name: 'c', type: 'f32' }],
    uniforms: ['M', 'N', 'K', 'strideA', 'strideB', 'strideC', 'acc'].map(n => ({ name: n, type: 'u32' as const })),
    code: `
var<workgroup> As: array<f32, ${TILE * BK}>;
var<workgroup> Bs: array<f32, ${TILE * BK}>;
fn tile4(t: ptr<workgroup, array<f32, ${TILE * BK}>>, at: u32) -> vec4f {
  return vec4f((*t)[at], (*t)[at + 1u], (*t)[at + 2u], (*t)[at + 3u]);
}
fn store_row(gr: u32, gc: u32, bC: u32, lo: vec4f, hi: vec4f) {
  if (gr >= u.M) { return; }
  for (var j = 0u; j < 8u; j++) {
    if (gc + j < u.N) {
      let o = bC + gr * u.N + gc + j;
      let v = select(hi[j % 4u], lo[j % 4u], j < 4u);
      if (u.acc != 0u) { c[o] = c[o] + v; } else { c[o] = v; }
    }
  }
}
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let tx = lid % 8u;
  let ty = lid / 8u;
  let n0 = wid.x * ${TILE}u;
  let m0 = wid.y * ${TILE}u;
  let bA = wid.z * u.strideA;
  let bB = wid.z * u.strideB;
  let bC = wid.z * u.strideC;
  // row r of the block: columns 0..3 in lo{r}, 4..7 in hi{r}
${ROWS.map(r => `  var lo${r} = vec4f(0.0); var hi${r} = vec4f(0.0);`).join('\n')}
  for (var k0 = 0u; k0 < u.K; k0 += ${BK}u) {
    for (var q = 0u; q < ${(TILE * BK) / 64}u; q++) {
      let e = lid + q * 64u;
      { ${loadA} As[kk * ${TILE}u + row] = v; }
      { ${loadB} Bs[kk * ${TILE}u + col] = v; }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      let a0 = tile4(&As, kk * ${TILE}u + ty * 8u);
      let a1 = tile4(&As, kk * ${TILE}u + ty * 8u + 4u);
      let b0 = tile4(&Bs, kk * ${TILE}u + tx * 8u);
      let b1 = tile4(&Bs, kk * ${TILE}u + tx * 8u + 4u);
${ROWS.map(r => `      lo${r} = fma(vec4f(${aOf(r)}), b0, lo${r});
      hi${r} = fma(vec4f(${aOf(r)}), b1, hi${r});`).join('\n')}
    }
    workgroupBarrier();
  }
${ROWS.map(r => `  store_row(m0 + ty * 8u + ${r}u, n0 + tx * 8u, bC, lo${r}, hi${r});`).join('\n')}
}`,
  };
  cache.set(name, k);
  return k;
}
