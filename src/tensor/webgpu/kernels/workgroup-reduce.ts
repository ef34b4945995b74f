// The sum (or maximum) of one value per invocation over a workgroup, in one of two flavors per device:
// - tree: every invocation stores its value in workgroup memory, then log2(WG) = 7 halving steps, each behind a
//   barrier (any adapter);
// - subgroups: the adapter's subgroups (32 lanes on NVIDIA and Apple, 32 or 64 on AMD, 8-32 on Intel, 4 on
//   SwiftShader) combine their lanes in registers (subgroupAdd / subgroupMax), one lane of each stores the result,
//   and after one barrier every invocation adds the WG / subgroup-size partials in subgroup order. Used where the
//   device has the `subgroups` feature and WGSL's `subgroup_id` builtin, which numbers the subgroups so the order is
//   fixed: the result repeats bit for bit from run to run, as the tree's does (the two flavors differ in rounding).
// A kernel written against this module takes the flavor as a parameter: `entry(sg)` declares its entry point with
// the builtins the flavor needs, `reduceHelpers(sg)` the functions, and `rowsum(sg, v)` / `rowmax(sg, v)` the
// calls. Every invocation of the workgroup must reach the call (it holds barriers): only workgroup-uniform
// branches may return before it.

import { ENTRY, WG } from './common.js';

/** The WGSL `enable` directives a kernel of this flavor needs. */
export const reduceEnables = (sg: boolean): string[] => (sg ? ['subgroups'] : []);

/** The entry point: ENTRY's builtins, plus the subgroup's number and the count of subgroups for `sg`. */
export function entry(sg: boolean): string {
  if (!sg) return ENTRY;
  return ENTRY.replace(/\)$/, ',\n        @builtin(subgroup_id) sg_id: u32, @builtin(num_subgroups) sg_count: u32)');
}

const tree = (fn: string, arr: string, op: (a: string, b: string) => string): string => `
var<workgroup> ${arr}: array<f32, ${WG}>;
fn ${fn}(v: f32, lid: u32) -> f32 {
  ${arr}[lid] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { ${arr}[lid] = ${op(`${arr}[lid]`, `${arr}[lid + s]`)}; }
    workgroupBarrier();
  }
  let total = ${arr}[0];
  workgroupBarrier();
  return total;
}`;

// subgroupElect() picks one active lane per subgroup; sg_count <= WG / 4 (the smallest subgroup WebGPU allows)
const subgroups = (fn: string, arr: string, sub: string, op: (a: string, b: string) => string): string => `
var<workgroup> ${arr}: array<f32, ${WG}>;
fn ${fn}(v: f32, sg_id: u32, sg_count: u32) -> f32 {
  let part = ${sub}(v);
  if (subgroupElect()) { ${arr}[sg_id] = part; }
  workgroupBarrier();
  var total = ${arr}[0];
  for (var i = 1u; i < sg_count; i++) { total = ${op('total', `${arr}[i]`)}; }
  workgroupBarrier();
  return total;
}`;

const add = (a: string, b: string) => `${a} + ${b}`, max = (a: string, b: string) => `max(${a}, ${b})`;

/** WGSL: rowsum (and with `withMax`, rowmax) for this flavor. */
export function reduceHelpers(sg: boolean, withMax = false): string {
  const sum = sg ? subgroups('rowsum', 'red_sum', 'subgroupAdd', add) : tree('rowsum', 'red_sum', add);
  if (!withMax) return sum;
  return sum + (sg ? subgroups('rowmax', 'red_max', 'subgroupMax', max) : tree('rowmax', 'red_max', max));
}

const args = (sg: boolean): string => (sg ? 'sg_id, sg_count' : 'lid');
/** WGSL expression: the workgroup's sum of each invocation's `v`. */
export const rowsum = (sg: boolean, v: string): string => `rowsum(${v}, ${args(sg)})`;
/** WGSL expression: the workgroup's maximum of each invocation's `v`. */
export const rowmax = (sg: boolean, v: string): string => `rowmax(${v}, ${args(sg)})`;
