// The `webgpu` backend: buffers in GPU memory (GpuBuf), a WGSL kernel per method, queued in order (queue.ts).
//
// Only `read` brings values back to the host, asynchronously; every reduction (sum, normalize, clipGradNorm)
// leaves its result in device memory. Sizes and ids are checked on the host before a dispatch, because a kernel
// binds whole GPUBuffers and would otherwise read or write past a view into its neighbours without a word.
// The GPU* globals (GPUBufferUsage, ...) are read only once a device exists: Node's loader installs them first.
// bf16 matmul requests (`p.bf16`) run in float32 here for now: hasBf16Matmul is absent, so nothing defaults to it.

import type { AttentionShape, Backend, Buf, MatmulParams, RopeParams } from '../backend.js';
import { UserError } from '../../common/errors.js';
import { GpuBuf } from './buffer.js';
import { gpuWait } from './keep-alive.js';
import type { GpuAdapterReport, OpenedDevice } from './device.js';
import { CommandQueue, type KernelArg } from './queue.js';
import type { KernelSource } from './program.js';
import { grid, grid1d } from './kernels/common.js';
import * as ew from './kernels/elementwise.js';
import { matmulKernel, TILE } from './kernels/matmul.js';
import { rmsnormBackward, rmsnormForward, ROPE } from './kernels/norm.js';
import {
  ATTENTION_MAX_D, ATTENTION_ROWS, attentionDeltaKernel, attentionDkvKernel, attentionDqKernel, attentionForwardKernel,
} from './kernels/attention.js';
import { EMBEDDING_BACKWARD, EMBEDDING_FORWARD, groupIds } from './kernels/embedding.js';
import { CROSS_ENTROPY_BACKWARD, crossEntropyForward } from './kernels/cross-entropy.js';
import { ADAMW_STEP } from './kernels/optimizer.js';
import { CLIP_BY_NORM, DIVIDE_BY_SCALAR, REDUCE_GROUPS, reduceFinish, reducePartials } from './kernels/reductions.js';

/** The kernels that reduce over a workgroup, in the flavor this device runs (kernels/workgroup-reduce.ts). */
function reducingKernels(subgroups: boolean) {
  return {
    rmsnormForward: rmsnormForward(subgroups), rmsnormBackward: rmsnormBackward(subgroups),
    reducePartials: reducePartials(subgroups), reduceFinish: reduceFinish(subgroups),
    crossEntropyForward: crossEntropyForward(subgroups),
  };
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly threads = 1;
  readonly device: GPUDevice;
  readonly adapterInfo: GpuAdapterReport;
  private readonly queue: CommandQueue;
  private readonly maxBinding: number;
  private readonly released = new WeakSet<GPUBuffer>();
  private readonly scratch = new Map<string, GpuBuf>();
  private readonly tables = new WeakMap<Float32Array, GpuBuf>();
  private readonly tableCopies = new FinalizationRegistry<GpuBuf>((g) => this.release(g));
  private allocated = 0;

  private readonly k: ReturnType<typeof reducingKernels>;
  /** whether the workgroup reductions (RMSNorm, cross-entropy, sums and norms) run on subgroups */
  readonly subgroupReductions: boolean;

  /** `subgroups: false` keeps the tree reductions where the device could use subgroups (tests compare the two) */
  constructor(opened: OpenedDevice, options: { subgroups?: boolean } = {}) {
    this.device = opened.device;
    this.adapterInfo = opened.report;
    this.queue = new CommandQueue(this.device);
    this.maxBinding = this.device.limits.maxStorageBufferBindingSize;
    this.subgroupReductions = opened.report.subgroupReductions && options.subgroups !== false;
    this.k = reducingKernels(this.subgroupReductions);
  }

  /** the most floats one buffer may hold: the adapter's largest storage binding */
  get maxBufferElements(): number { return Math.floor(this.maxBinding / 4); }

  /** true when the adapter computes on the CPU (llvmpipe, SwiftShader): correct, but no faster than native */
  get isSoftware(): boolean { return this.adapterInfo.isSoftware; }

  /** bytes of GPU memory held: buffers from alloc not yet released, scratch, rope tables and the queue's rings */
  get bytesAllocated(): number { return this.allocated + this.queue.ringBytes; }

  /** Submit every queued kernel now (reads and writes do this themselves). */
  flush(): void { this.queue.submit(); }

  /** Resolves when every kernel queued so far has run. */
  async finish(): Promise<void> {
    this.queue.submit();
    await gpuWait(this.device.queue.onSubmittedWorkDone());
    this.queue.throwIfFailed();
  }

  /** Free the device; the backend is unusable afterwards. */
  destroy(): void { this.device.destroy(); }

  // ---- storage

  alloc(n: number): GpuBuf {
    const bytes = Math.max(16, Math.ceil((4 * n) / 16) * 16);
    if (bytes > this.maxBinding) {
      throw new UserError(`webgpu: a buffer of ${mib(bytes)} exceeds this adapter's largest storage binding ` +
        `(${mib(this.maxBinding)}); use a smaller model or batch, or NANOCHAT_BACKEND=native`);
    }
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = this.device.createBuffer({ size: bytes, usage }); // WebGPU zero-fills new buffers
    this.allocated += bytes;
    return new GpuBuf(buffer, 0, n, true);
  }

  release(buf: Buf): void {
    if (buf instanceof GpuBuf && this.released.has(buf.buffer)) throw new Error('webgpu: buffer released twice');
    const g = this.gpu(buf, 0, 'release');
    if (!g.owner) throw new Error('webgpu: release takes a buffer from alloc, not a view of one');
    this.released.add(g.buffer);
    this.allocated -= g.buffer.size;
    this.queue.destroyLater(g.buffer);
  }

  write(dst: Buf, src: Float32Array): void {
    const g = this.gpu(dst, src.length, 'write');
    if (src.length === 0) return;
    this.queue.submit(); // writeBuffer would otherwise overtake kernels still in the encoder
    this.device.queue.writeBuffer(g.buffer, 4 * g.offset, src as Float32Array<ArrayBuffer>);
  }

  async read(src: Buf): Promise<Float32Array> {
    const g = this.gpu(src, 0, 'read');
    const out = new Float32Array(g.length);
    if (g.length === 0) { await this.finish(); return out; }
    const staging = this.device.createBuffer({
      size: 4 * g.length, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.queue.copy(g.buffer, 4 * g.offset, staging, 0, 4 * g.length);
    this.queue.submit();
    try {
      await gpuWait(staging.mapAsync(GPUMapMode.READ));
      out.set(new Float32Array(staging.getMappedRange()));
      staging.unmap();
    } catch (e) {
      this.queue.throwIfFailed();
      throw e;
    } finally {
      staging.destroy();
    }
    this.queue.throwIfFailed();
    return out;
  }

  // ---- linear algebra

  matmul(a: Buf, b: Buf, c: Buf, p: MatmulParams): void {
    const { batch, M, N, K } = p;
    const sA = p.strideA ?? M * K, sB = p.strideB ?? K * N, sC = p.strideC ?? M * N;
    const span = (stride: number, one: number) => (batch - 1) * stride + one;
    const args = [
      this.gpu(a, span(sA, M * K), 'matmul a'), this.gpu(b, span(sB, K * N), 'matmul b'),
      this.gpu(c, span(sC, M * N), 'matmul c'),
    ];
    // a grid dimension holds at most 65,535 workgroups: batch, and M and N in 64-wide tiles
    if (batch > 65535 || Math.ceil(M / TILE) > 65535 || Math.ceil(N / TILE) > 65535) {
      throw new UserError(`webgpu matmul: batch ${batch} x [${M}, ${N}] exceeds the 65,535 x 64 rows and columns ` +
        'one dispatch covers; use a smaller batch');
    }
    if (M === 0 || N === 0) return;
    this.run(matmulKernel(p.transA, p.transB), args, [M, N, K, sA, sB, sC, +p.accumulate],
      [Math.ceil(N / TILE), Math.ceil(M / TILE), batch]);
  }

  transpose(src: Buf, dst: Buf, rows: number, cols: number): void {
    const n = rows * cols;
    this.run(ew.TRANSPOSE, [this.gpu(src, n), this.gpu(dst, n)], [n, rows, cols], grid1d(n));
  }

  // ---- elementwise

  fill(dst: Buf, value: number, n: number): void { this.run(ew.FILL, [this.gpu(dst, n)], [n, value], grid1d(n)); }
  copy(src: Buf, dst: Buf, n: number): void { this.run(ew.COPY, [this.gpu(src, n), this.gpu(dst, n)], [n], grid1d(n)); }
  add(a: Buf, b: Buf, out: Buf, n: number, accumulate: boolean): void {
    this.run(ew.ADD, [this.gpu(a, n), this.gpu(b, n), this.gpu(out, n)], [n, +accumulate], grid1d(n));
  }
  mul(a: Buf, b: Buf, out: Buf, n: number, accumulate: boolean): void {
    this.run(ew.MUL, [this.gpu(a, n), this.gpu(b, n), this.gpu(out, n)], [n, +accumulate], grid1d(n));
  }
  scale(x: Buf, alpha: number, out: Buf, n: number, accumulate: boolean): void {
    this.run(ew.SCALE, [this.gpu(x, n), this.gpu(out, n)], [n, alpha, +accumulate], grid1d(n));
  }
  lerp(dst: Buf, src: Buf, t: number, n: number): void {
    this.run(ew.LERP, [this.gpu(dst, n), this.gpu(src, n)], [n, t], grid1d(n));
  }

  broadcast(src: Buf, dst: Buf, n: number, accumulate: boolean): void {
    this.run(ew.BROADCAST, [this.gpu(src, 1), this.gpu(dst, n)], [n, +accumulate], grid1d(n));
  }

  // ---- reductions, all on the device

  sum(x: Buf, n: number, out: Buf): void {
    const partials = this.scratchBuf('partials', REDUCE_GROUPS);
    this.run(this.k.reducePartials, [this.gpu(x, n), partials], [n, 0], [REDUCE_GROUPS]);
    this.run(this.k.reduceFinish, [partials, this.gpu(out, 1)], [REDUCE_GROUPS, 0, 0], [1]);
  }

  normalize(x: Buf, n: number, eps: number): void {
    const gx = this.gpu(x, n), partials = this.scratchBuf('partials', REDUCE_GROUPS + 1);
    const divisor = partials.subarray(REDUCE_GROUPS, REDUCE_GROUPS + 1);
    this.run(this.k.reducePartials, [gx, partials], [n, 1], [REDUCE_GROUPS]);
    this.run(this.k.reduceFinish, [partials, divisor], [REDUCE_GROUPS, 2, eps], [1]);
    this.run(DIVIDE_BY_SCALAR, [gx, divisor], [n], grid1d(n));
  }

  clipGradNorm(grads: readonly Buf[], sizes: readonly number[], maxNorm: number, norm: Buf): void {
    if (grads.length !== sizes.length) throw new Error('webgpu clipGradNorm: grads and sizes differ in length');
    const gs = grads.map((g, i) => this.gpu(g, sizes[i], 'clipGradNorm'));
    const gnorm = this.gpu(norm, 1, 'clipGradNorm norm');
    // every buffer's partial sums of squares side by side, then one fixed-order sum over all of them
    const partials = this.scratchBuf('clip', Math.max(1, gs.length) * REDUCE_GROUPS);
    gs.forEach((g, i) => {
      const part = partials.subarray(i * REDUCE_GROUPS, (i + 1) * REDUCE_GROUPS);
      if (sizes[i] === 0) this.run(ew.FILL, [part], [REDUCE_GROUPS, 0], grid1d(REDUCE_GROUPS));
      else this.run(this.k.reducePartials, [g, part], [sizes[i], 1], [REDUCE_GROUPS]);
    });
    this.run(this.k.reduceFinish, [partials, gnorm], [gs.length * REDUCE_GROUPS, 1, 0], [1]);
    if (maxNorm > 0) gs.forEach((g, i) => this.run(CLIP_BY_NORM, [g, gnorm], [sizes[i], maxNorm], grid1d(sizes[i])));
  }

  // ---- activations

  reluSquaredForward(x: Buf, y: Buf, n: number): void {
    this.run(ew.RELU_SQUARED_FORWARD, [this.gpu(x, n), this.gpu(y, n)], [n], grid1d(n));
  }
  reluSquaredBackward(dy: Buf, x: Buf, dx: Buf, n: number, accumulate: boolean): void {
    this.run(ew.RELU_SQUARED_BACKWARD, [this.gpu(dy, n), this.gpu(x, n), this.gpu(dx, n)], [n, +accumulate], grid1d(n));
  }
  softcapForward(x: Buf, y: Buf, n: number, cap: number): void {
    this.run(ew.SOFTCAP_FORWARD, [this.gpu(x, n), this.gpu(y, n)], [n, cap], grid1d(n));
  }
  softcapBackward(dy: Buf, y: Buf, dx: Buf, n: number, cap: number, accumulate: boolean): void {
    this.run(ew.SOFTCAP_BACKWARD, [this.gpu(dy, n), this.gpu(y, n), this.gpu(dx, n)], [n, cap, +accumulate], grid1d(n));
  }

  // ---- normalization

  rmsnormForward(x: Buf, y: Buf, rstd: Buf, rows: number, dim: number, eps: number): void {
    const n = rows * dim;
    this.run(this.k.rmsnormForward, [this.gpu(x, n), this.gpu(y, n), this.gpu(rstd, rows)], [rows, dim, eps], grid(rows));
  }
  rmsnormBackward(dy: Buf, y: Buf, rstd: Buf, dx: Buf, rows: number, dim: number, accumulate: boolean): void {
    const n = rows * dim;
    this.run(this.k.rmsnormBackward, [this.gpu(dy, n), this.gpu(y, n), this.gpu(rstd, rows), this.gpu(dx, n)],
      [rows, dim, +accumulate], grid(rows));
  }

  // ---- rotary embedding

  rope(src: Buf, dst: Buf, cos: Buf, sin: Buf, p: RopeParams): void {
    const { B, T, H, D, pos0 } = p;
    if (D % 2 !== 0) throw new Error(`webgpu rope: head dimension ${D} is odd`);
    const n = B * T * H * D, half = D / 2, table = (pos0 + T) * half;
    const args = [this.gpu(src, n), this.gpu(dst, n), this.ropeTable(cos, table), this.ropeTable(sin, table)];
    this.run(ROPE, args, [n / 2, T, H, half, pos0, p.inverse ? -1 : 1, +p.accumulate], grid1d(n / 2));
  }

  // ---- attention

  attentionForward(q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, s: AttentionShape): void {
    const { args: shape, kvSpan, qn } = this.attentionShape(s);
    const args = [this.gpu(q, qn), this.gpu(k, kvSpan), this.gpu(v, kvSpan), this.gpu(out, qn),
      this.gpu(lse, s.B * s.H * s.Tq)];
    this.run(attentionForwardKernel(s.D), args, shape, [Math.ceil(s.Tq / ATTENTION_ROWS), s.H, s.B]);
  }

  attentionBackward(
    dout: Buf, q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, dq: Buf, dk: Buf, dv: Buf, s: AttentionShape,
  ): void {
    const { args: shape, kvSpan, qn } = this.attentionShape(s);
    const rows = s.B * s.H * s.Tq;
    const gdout = this.gpu(dout, qn), gq = this.gpu(q, qn), gk = this.gpu(k, kvSpan), gv = this.gpu(v, kvSpan);
    const glse = this.gpu(lse, rows), delta = this.scratchBuf('delta', rows);
    this.run(attentionDeltaKernel(s.D), [gdout, this.gpu(out, qn), delta], [rows, s.Tq, s.H], grid1d(rows));
    this.run(attentionDqKernel(s.D), [gdout, gq, gk, gv, glse, delta, this.gpu(dq, qn)], shape,
      [Math.ceil(s.Tq / ATTENTION_ROWS), s.H, s.B]);
    this.run(attentionDkvKernel(s.D), [gdout, gq, gk, gv, glse, delta, this.gpu(dk, kvSpan), this.gpu(dv, kvSpan)],
      shape, [Math.ceil(s.Tk / ATTENTION_ROWS), s.Hkv, s.B]);
  }

  // ---- embedding

  embeddingForward(table: Buf, ids: Int32Array, out: Buf, n: number, dim: number): void {
    const gt = this.gpu(table, 0, 'embedding table');
    checkIds(ids, n, Math.floor(gt.length / dim), 'token id', false);
    this.run(EMBEDDING_FORWARD, [gt, ids.subarray(0, n), this.gpu(out, n * dim)], [n, dim], grid1d(n * dim));
  }
  embeddingBackward(dout: Buf, ids: Int32Array, dtable: Buf, n: number, dim: number): void {
    const gt = this.gpu(dtable, 0, 'embedding dtable');
    checkIds(ids, n, Math.floor(gt.length / dim), 'token id', false);
    const vocab = Math.floor(gt.length / dim), { rows, starts, positions } = groupIds(ids, n, vocab);
    this.run(EMBEDDING_BACKWARD, [this.gpu(dout, n * dim), rows, starts, positions, gt], [rows.length * dim, dim],
      grid1d(rows.length * dim));
  }

  // ---- cross-entropy; cap 0 selects the plain loss in the shared kernels

  crossEntropyForward(
    logits: Buf, targets: Int32Array, losses: Buf, lse: Buf, rows: number, V: number, stride: number,
  ): void {
    this.ceForward(logits, targets, losses, lse, rows, V, stride, 0);
  }
  crossEntropyBackward(
    logits: Buf, targets: Int32Array, lse: Buf, dloss: Buf, dlogits: Buf, rows: number, V: number, stride: number,
  ): void {
    this.ceBackward(logits, targets, lse, dloss, dlogits, rows, V, stride, 0);
  }
  softcapCrossEntropyForward(
    raw: Buf, targets: Int32Array, losses: Buf, lse: Buf, rows: number, V: number, stride: number, cap: number,
  ): void {
    if (!(cap > 0)) throw new Error(`webgpu softcap cross-entropy: cap ${cap} must be positive`);
    this.ceForward(raw, targets, losses, lse, rows, V, stride, cap);
  }
  softcapCrossEntropyBackward(
    raw: Buf, targets: Int32Array, lse: Buf, dloss: Buf, draw: Buf, rows: number, V: number, stride: number,
    cap: number,
  ): void {
    if (!(cap > 0)) throw new Error(`webgpu softcap cross-entropy: cap ${cap} must be positive`);
    this.ceBackward(raw, targets, lse, dloss, draw, rows, V, stride, cap);
  }

  // ---- optimizer

  adamwStep(
    param: Buf, grad: Buf, m: Buf, v: Buf, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, step: number,
  ): void {
    const bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
    this.run(ADAMW_STEP, [this.gpu(param, n), this.gpu(grad, n), this.gpu(m, n), this.gpu(v, n)],
      [n, lr, beta1, beta2, eps, weightDecay, bc1, bc2], grid1d(n));
  }

  // ---- helpers

  private run(
    k: KernelSource, args: readonly KernelArg[], scalars: readonly number[], groups: readonly number[],
  ): void {
    this.queue.dispatch(k, args, scalars, groups);
  }

  /** buf as a GpuBuf holding at least n elements; anything else is a bug in the caller */
  private gpu(buf: Buf, n: number, what = 'kernel argument'): GpuBuf {
    if (!(buf instanceof GpuBuf)) {
      const kind = buf?.constructor?.name ?? typeof buf;
      throw new Error(`webgpu: ${what} is a ${kind}, not a buffer from this backend's alloc`);
    }
    if (buf.length < n) throw new Error(`webgpu: ${what} holds ${buf.length} elements, the kernel needs ${n}`);
    if (this.released.has(buf.buffer)) throw new Error(`webgpu: ${what} was released`);
    return buf;
  }

  /** An internal buffer of at least n floats, kept and grown (never shrunk) across calls. */
  private scratchBuf(name: string, n: number): GpuBuf {
    const have = this.scratch.get(name);
    if (have && have.length >= n) return have.subarray(0, n);
    if (have) this.release(have);
    const grown = this.alloc(Math.max(n, 2 * (have?.length ?? 0)));
    this.scratch.set(name, grown);
    return grown.subarray(0, n);
  }

  /**
   * The rope tables may come from the host (the model's Float32Array cos/sin): uploaded once and cached while the
   * host table lives; when the garbage collector takes it (the model is gone), its GPU copy is released too.
   */
  private ropeTable(t: Buf, n: number): GpuBuf {
    if (!(t instanceof Float32Array)) return this.gpu(t, n, 'rope table');
    if (t.length < n) throw new Error(`webgpu rope: the table holds ${t.length} values, needs ${n}`);
    let g = this.tables.get(t);
    if (!g) {
      g = this.alloc(t.length);
      this.write(g, t);
      this.tables.set(t, g);
      this.tableCopies.register(t, g);
    }
    return g;
  }

  private attentionShape(s: AttentionShape): { args: number[]; kvSpan: number; qn: number } {
    const { B, Tq, Tk, H, Hkv, D, scale } = s;
    const kvs = s.kvBatchStride ?? Tk * Hkv * D;
    if (H % Hkv !== 0) throw new Error(`webgpu attention: H=${H} is not a multiple of Hkv=${Hkv}`);
    if (Tq > Tk) throw new Error(`webgpu attention: Tq=${Tq} queries but only Tk=${Tk} keys`);
    if (D > ATTENTION_MAX_D) throw new Error(`webgpu attention: head dimension ${D} > ${ATTENTION_MAX_D}`);
    if (B > 65535 || H > 65535) throw new Error(`webgpu attention: B=${B} or H=${H} > 65535`);
    return {
      args: [B, Tq, Tk, H, Hkv, H / Hkv, Tk - Tq, kvs, scale],
      kvSpan: (B - 1) * kvs + Tk * Hkv * D,
      qn: B * Tq * H * D,
    };
  }

  private ceForward(
    logits: Buf, targets: Int32Array, losses: Buf, lse: Buf, rows: number, V: number, stride: number, cap: number,
  ): void {
    if (stride < V) throw new Error(`webgpu cross-entropy: row stride ${stride} < V ${V}`);
    checkIds(targets, rows, V, 'target', true);
    this.run(this.k.crossEntropyForward,
      [this.gpu(logits, rows * stride), targets.subarray(0, rows), this.gpu(losses, rows), this.gpu(lse, rows)],
      [rows, V, stride, cap], grid(rows));
  }

  private ceBackward(
    logits: Buf, targets: Int32Array, lse: Buf, dloss: Buf, dlogits: Buf, rows: number, V: number, stride: number,
    cap: number,
  ): void {
    if (stride < V) throw new Error(`webgpu cross-entropy: row stride ${stride} < V ${V}`);
    checkIds(targets, rows, V, 'target', true);
    const n = rows * stride;
    this.run(CROSS_ENTROPY_BACKWARD,
      [this.gpu(logits, n), targets.subarray(0, rows), this.gpu(lse, rows), this.gpu(dloss, rows),
        this.gpu(dlogits, n)],
      [n, V, stride, cap], grid1d(n));
  }
}

/** ids[0 .. n) in [0, limit) (or -1 where allowed): a bad id would index another row's memory on the GPU. */
function checkIds(ids: Int32Array, n: number, limit: number, what: string, allowIgnored: boolean): void {
  if (ids.length < n) throw new Error(`webgpu: ${n} ${what}s expected, got ${ids.length}`);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (id >= limit || id < (allowIgnored ? -1 : 0)) {
      throw new UserError(`${what} ${id} at position ${i} is outside [0, ${limit}): check the tokenizer's vocabulary ` +
        'against the model\'s');
    }
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
