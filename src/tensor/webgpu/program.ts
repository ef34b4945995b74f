// A kernel's WGSL source as written in kernels/*.ts, and its assembly into a shader for one call's buffers.
//
// A kernel names its storage arrays and indexes them as NAME[i]; the assembled shader binds each distinct
// GPUBuffer once (WebGPU rejects two bindings of one buffer in a dispatch when either is writable, and in-place
// calls such as add(a, b, a) or views of one buffer are common) and rewrites NAME[i] to binding[u.o_NAME + i],
// the view's element offset coming from the uniform block. So one source yields a shader per aliasing pattern,
// and the pipeline cache keys on the kernel's name plus that pattern.

export type ScalarType = 'u32' | 'i32' | 'f32';

export interface KernelSource {
  /** unique per source text, including any specialisation baked into it (e.g. `attention_fwd_D64`) */
  name: string;
  /** storage arrays in argument order: float32 buffers, or i32 for host ids uploaded per call */
  buffers: readonly { name: string; type: 'f32' | 'i32' }[];
  /** uniform scalars after the offsets, read in the code as u.NAME */
  uniforms: readonly { name: string; type: ScalarType }[];
  /** WGSL: constants, helpers and the entry point `main` */
  code: string;
  /** WGSL extensions the code needs (`enable NAME;` goes before everything else), e.g. 'subgroups' */
  enables?: readonly string[];
}

/** Bytes of one dispatch's uniform block: the ring hands out 256-byte slots. */
export const UNIFORM_SLOT_BYTES = 256;

/** slots[i] is the binding (0-based among storage bindings) that buffer argument i uses. */
export function assembleShader(k: KernelSource, slots: readonly number[]): string {
  const fields = [
    ...k.buffers.map(b => `o_${b.name}: u32`),
    ...k.uniforms.map(f => `${f.name}: ${f.type}`),
  ];
  if (4 * fields.length > UNIFORM_SLOT_BYTES) throw new Error(`kernel ${k.name}: too many uniforms`);
  const lines = [
    ...(k.enables ?? []).map(e => `enable ${e};`),
    `struct Uniforms { ${fields.join(', ')} }`, '@group(0) @binding(0) var<uniform> u: Uniforms;',
  ];
  const declared = new Set<number>();
  k.buffers.forEach((b, i) => {
    if (declared.has(slots[i])) return;
    declared.add(slots[i]);
    lines.push(`@group(0) @binding(${slots[i] + 1}) var<storage, read_write> g${slots[i]}: array<${b.type}>;`);
  });
  let code = k.code;
  k.buffers.forEach((b, i) => {
    code = code.replace(new RegExp(`\\b${b.name}\\[`, 'g'), `g${slots[i]}[u.o_${b.name} + `);
  });
  return `${lines.join('\n')}\n${code}`;
}

/** Number of uniform words (offsets first, then the kernel's scalars). */
export function uniformWords(k: KernelSource): number {
  return k.buffers.length + k.uniforms.length;
}
