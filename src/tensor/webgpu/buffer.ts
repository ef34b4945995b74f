// A float32 buffer in GPU memory: one GPUBuffer and a window [offset, offset + length) of it, in elements.
//
// Views (subarray) share the GPUBuffer and only move the window. Storage-buffer bindings need 256-byte aligned
// offsets, which an arbitrary element view does not have, so every kernel binds the whole GPUBuffer and gets the
// view's element offset as a uniform.

import type { DeviceBuf } from '../backend.js';

export class GpuBuf implements DeviceBuf {
  constructor(
    readonly buffer: GPUBuffer,
    /** first element of this view within buffer */
    readonly offset: number,
    readonly length: number,
    /** true only for the buffer alloc returned: views never own (release of a view is an error) */
    readonly owner: boolean,
  ) {}

  subarray(begin: number, end?: number): GpuBuf {
    // Float32Array.subarray's rules: negative indices count from the end, both clamp to [0, length].
    const clamp = (i: number) => Math.min(this.length, Math.max(0, i < 0 ? this.length + i : i));
    const b = clamp(Math.trunc(begin)), e = Math.max(b, clamp(end === undefined ? this.length : Math.trunc(end)));
    return new GpuBuf(this.buffer, this.offset + b, e - b, false);
  }
}
