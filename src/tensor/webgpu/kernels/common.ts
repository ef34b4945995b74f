// Shared pieces of the WGSL kernels: the workgroup size, the flat index over a 2-D grid of workgroups (a grid
// dimension holds at most 65,535 workgroups, so large arrays spill into y), and a safe tanh.

import type { KernelSource, ScalarType } from '../program.js';

/** Invocations per workgroup of the 1-D kernels: 128 is the most some software adapters allow. */
export const WG = 128;

/** Workgroup counts covering `count` workgroups, as [x, y] with x <= 65,535. */
export function grid(count: number): [number, number] {
  if (count <= 65535) return [count, 1];
  return [65535, Math.ceil(count / 65535)];
}

/** Workgroups for n elements at WG per workgroup. */
export function grid1d(n: number): [number, number] {
  return grid(Math.ceil(n / WG));
}

/** WGSL giving `wg_index`, the flat workgroup number over a grid() dispatch. */
export const WORKGROUP_INDEX = 'let wg_index = wid.x + wid.y * nwg.x;';

export const ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u)`;

/**
 * cap * tanh(x / cap) without overflow: some drivers compute tanh from exp(2x) and return NaN past |x| ~ 44;
 * beyond |x| = 9 tanh is 1 in float32 anyway.
 */
export const SOFTCAP_FN = `
fn tanh_safe(x: f32) -> f32 { return select(sign(x), tanh(x), abs(x) < 9.0); }
fn softcap(x: f32, cap: f32) -> f32 { return cap * tanh_safe(x / cap); }`;

type Buffers = KernelSource['buffers'];

/** An elementwise kernel: `body` runs once per i < u.n with i in scope. */
export function elementwise(
  name: string, buffers: string[], uniforms: [string, ScalarType][], body: string, helpers = '',
): KernelSource {
  return {
    name,
    buffers: buffers.map(b => ({ name: b, type: 'f32' as const })) as Buffers,
    uniforms: [{ name: 'n', type: 'u32' }, ...uniforms.map(([n, type]) => ({ name: n, type }))],
    code: `${helpers}
${ENTRY} {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= u.n) { return; }
  ${body}
}`,
  };
}

/** WGSL statement: out[i] = v, or out[i] += v when u.acc != 0. */
export function store(out: string, index: string, value: string): string {
  return `if (u.acc != 0u) { ${out}[${index}] = ${out}[${index}] + ${value}; } else { ${out}[${index}] = ${value}; }`;
}
