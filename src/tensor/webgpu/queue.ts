// The command queue: kernels are encoded into one command encoder (one compute pass) and submitted in batches.
//
// Each dispatch takes a 256-byte slot of a uniform ring (one GPUBuffer, bound with a dynamic offset) instead of a
// new GPUBuffer; host ids (token ids, targets) are staged in an upload ring the same way. Both rings are filled on
// the host while a batch is encoded and written with queue.writeBuffer just before the batch is submitted, so they
// reach the GPU in order with the kernels that read them. queue.writeBuffer runs ahead of anything still in an
// unsubmitted encoder, so every other host write first submits the pending batch (`submit`). A batch is submitted
// when a read or write needs it, when a ring is full, or after MAX_DISPATCHES dispatches.

import { GpuBuf } from './buffer.js';
import { type KernelSource, UNIFORM_SLOT_BYTES, assembleShader, uniformWords } from './program.js';
import { UserError } from '../../common/errors.js';

/** dispatches per submitted batch: enough to amortise a submit, few enough to start the GPU early */
const MAX_DISPATCHES = 256;
const UPLOAD_START_BYTES = 1 << 20;

/** An argument of a dispatch: a float32 view, or int32 host values uploaded with this batch. */
export type KernelArg = GpuBuf | Int32Array;

interface Pipeline { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }

export class CommandQueue {
  private readonly pipelines = new Map<string, Pipeline>();
  private readonly uniformRing: GPUBuffer;
  private readonly uniformHost = new ArrayBuffer(MAX_DISPATCHES * UNIFORM_SLOT_BYTES);
  private readonly uniformU32 = new Uint32Array(this.uniformHost);
  private readonly uniformI32 = new Int32Array(this.uniformHost);
  private readonly uniformF32 = new Float32Array(this.uniformHost);
  private uploadRing: GPUBuffer;
  private uploadHost: Int32Array;
  private uploadUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatches = 0;
  /** released buffers, destroyed once the batch that may use them is submitted */
  private readonly doomed: GPUBuffer[] = [];
  /** the first validation or device-lost error, reported by the next read */
  private error: string | null = null;
  /** bytes of device memory the queue itself holds (rings) */
  ringBytes: number;

  constructor(readonly device: GPUDevice) {
    this.uniformRing = device.createBuffer({
      size: this.uniformHost.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.uploadRing = this.createUploadRing(UPLOAD_START_BYTES);
    this.uploadHost = new Int32Array(UPLOAD_START_BYTES / 4);
    this.ringBytes = this.uniformHost.byteLength + UPLOAD_START_BYTES;
    device.addEventListener('uncapturederror', e => {
      e.preventDefault(); // reported once by the next read, not also printed by Dawn for every later batch
      const err = (e as GPUUncapturedErrorEvent).error;
      const first = err.message.split('\n')[0];
      this.error ??= typeof GPUOutOfMemoryError !== 'undefined' && err instanceof GPUOutOfMemoryError
        ? `the GPU ran out of memory (${first}): use a smaller model or batch`
        : first;
    });
    void device.lost.then(info => { if (info.reason !== 'destroyed') this.error ??= `device lost: ${info.message}`; });
  }

  /**
   * Encode one dispatch of kernel k over `groups` workgroups. args follow k.buffers; scalars follow k.uniforms
   * (numbers, written as the uniform's type).
   */
  dispatch(k: KernelSource, args: readonly KernelArg[], scalars: readonly number[], groups: readonly number[]): void {
    if (groups.some(g => g === 0)) return;
    if (this.dispatches === MAX_DISPATCHES) this.submit();
    const uploads = args.reduce((s, a) => s + (a instanceof Int32Array ? alignUp(a.length, 64) : 0), 0);
    if (this.uploadUsed + uploads > this.uploadHost.length) {
      this.submit();
      if (uploads > this.uploadHost.length) this.growUploads(uploads);
    }
    // bind each distinct GPUBuffer once; views of it share the binding
    const buffers: GPUBuffer[] = [], slots: number[] = [], offsets: number[] = [];
    for (const a of args) {
      let buffer: GPUBuffer, offset: number;
      if (a instanceof Int32Array) {
        buffer = this.uploadRing;
        offset = this.uploadUsed;
        this.uploadHost.set(a, offset);
        this.uploadUsed += alignUp(a.length, 64);
      } else { buffer = a.buffer; offset = a.offset; }
      let slot = buffers.indexOf(buffer);
      if (slot < 0) { slot = buffers.length; buffers.push(buffer); }
      slots.push(slot);
      offsets.push(offset);
    }
    const p = this.pipeline(k, slots);
    const base = (this.dispatches * UNIFORM_SLOT_BYTES) / 4;
    offsets.forEach((o, i) => { this.uniformU32[base + i] = o; });
    k.uniforms.forEach((f, i) => {
      const w = base + k.buffers.length + i, v = scalars[i];
      if (f.type === 'f32') this.uniformF32[w] = v; else if (f.type === 'i32') this.uniformI32[w] = v;
      else this.uniformU32[w] = v;
    });
    const bindGroup = this.device.createBindGroup({
      layout: p.layout,
      entries: [
        { binding: 0, resource: { buffer: this.uniformRing, offset: 0, size: UNIFORM_SLOT_BYTES } },
        ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
      ],
    });
    const pass = this.computePass();
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, bindGroup, [this.dispatches * UNIFORM_SLOT_BYTES]);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    this.dispatches++;
  }

  /** Encode a buffer-to-buffer copy in order with the kernels (bytes, 4-aligned). */
  copy(src: GPUBuffer, srcByte: number, dst: GPUBuffer, dstByte: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcByte, dst, dstByte, bytes);
  }

  /** Submit every encoded kernel (and the ring contents they read); then destroy buffers released meanwhile. */
  submit(): void {
    if (this.encoder) {
      this.endPass();
      const queue = this.device.queue;
      const uniformBytes = this.dispatches * UNIFORM_SLOT_BYTES;
      if (uniformBytes > 0) queue.writeBuffer(this.uniformRing, 0, this.uniformHost, 0, uniformBytes);
      if (this.uploadUsed > 0) queue.writeBuffer(this.uploadRing, 0, this.uploadHost.buffer, 0, this.uploadUsed * 4);
      queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.dispatches = 0;
      this.uploadUsed = 0;
    }
    for (const b of this.doomed.splice(0)) b.destroy();
  }

  /** Destroy b after the pending batch (which may still use it) is submitted. */
  destroyLater(b: GPUBuffer): void { this.doomed.push(b); }

  /** Throws the first GPU error seen so far (validation errors are asynchronous, so reads check). */
  throwIfFailed(): void {
    // a UserError: one line, no stack trace (the cause is in the message; the kernels' own checks come first)
    if (this.error) throw new UserError(`webgpu: ${this.error}`);
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private pipeline(k: KernelSource, slots: readonly number[]): Pipeline {
    const key = `${k.name}|${slots.join(',')}`;
    let p = this.pipelines.get(key);
    if (p) return p;
    const distinct = Math.max(...slots) + 1;
    const layout = this.device.createBindGroupLayout({
      entries: [
        {
          binding: 0, visibility: GPUShaderStage.COMPUTE,
          buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: alignUp(4 * uniformWords(k), 16) },
        },
        ...Array.from({ length: distinct }, (_, i) => ({
          binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' as const },
        })),
      ],
    });
    const module = this.device.createShaderModule({ code: assembleShader(k, slots), label: k.name });
    const pipeline = this.device.createComputePipeline({
      label: k.name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    p = { pipeline, layout };
    this.pipelines.set(key, p);
    return p;
  }

  private createUploadRing(bytes: number): GPUBuffer {
    return this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  }

  private growUploads(ints: number): void {
    const bytes = 2 ** Math.ceil(Math.log2(ints * 4));
    this.destroyLater(this.uploadRing);
    this.submit();
    this.ringBytes += bytes - this.uploadHost.byteLength;
    this.uploadRing = this.createUploadRing(bytes);
    this.uploadHost = new Int32Array(bytes / 4);
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
