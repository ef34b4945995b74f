// The safetensors format, written and read by us: other ecosystems (PyTorch, JAX, the Rust crate)
// read our weights directly.
//
// Layout: 8-byte little-endian header length N, then N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
// padded with spaces to a multiple of 8, then the raw little-endian data, offsets relative to its start.

import { readFileSync } from 'node:fs';

export interface NamedTensor {
  shape: readonly number[];
  data: Float32Array;
}

/** Serialize tensors (float32) plus string metadata. Names are written in sorted order, as the reference libraries do. */
export function encodeSafetensors(tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const n of names) {
    const t = tensors.get(n)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`safetensors: '${n}' has shape [${t.shape}] but ${t.data.length} values`);
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const parts: Uint8Array[] = [len, Buffer.from(json, 'utf8')];
  for (const n of names) {
    const d = tensors.get(n)!.data;
    parts.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength)); // x86 and ARM are little-endian
  }
  return parts;
}

/** Read a safetensors file; every structural problem is an Error naming the file and what is wrong. */
export function loadSafetensors(path: string): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  const buf = readFileSync(path);
  const bad = (why: string) => new Error(`${path} is not a valid safetensors file (${why}); it may be truncated or corrupt`);
  if (buf.length < 8) throw bad('shorter than its 8-byte header length');
  const n = Number(buf.readBigUInt64LE(0));
  if (n <= 0 || 8 + n > buf.length) throw bad(`header length ${n} does not fit in ${buf.length} bytes`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch {
    throw bad('header is not JSON');
  }
  const dataStart = 8 + n;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') { metadata = entry as Record<string, string>; continue; }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (e.dtype !== 'F32') throw bad(`tensor '${name}' has dtype ${e.dtype}; only F32 is supported`);
    const [b, end] = e.data_offsets;
    const count = e.shape.reduce((a, c) => a * c, 1);
    if (end - b !== 4 * count || dataStart + end > buf.length) throw bad(`tensor '${name}' data [${b}, ${end}) does not match shape [${e.shape}] or runs past the end`);
    // copy into an aligned Float32Array (the file's data need not be 4-byte aligned in memory)
    const data = new Float32Array(count);
    Buffer.from(data.buffer).set(buf.subarray(dataStart + b, dataStart + end));
    tensors.set(name, { shape: e.shape, data });
  }
  return { tensors, metadata };
}
