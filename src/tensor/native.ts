// The `native` backend: our C addon (native/*.c, built by node-gyp at `npm install` into
// build/Release/nanochat_native.node). GEMM with packing and an AVX-512 (or AVX2, or portable)
// register-tiled micro-kernel, flash-style fused attention, and threaded elementwise kernels.
// Arguments cross to C as plain numbers and typed arrays (no option objects): ~0.3 us per call.

// No static import of a Node module: the model and engine import this file through backends.ts, and a browser tab
// runs them too (on webgpu). Node's modules come from process.getBuiltinModule (Node 20.16+), only when loading.
import type { AttentionShape, Backend, MatmulParams, PeakMeasurement, RopeParams } from './backend.js';
import { HostBackend, type HostBuf } from './host-backend.js';
import { BF16_INFERENCE_ONLY, isBf16Buf, type Bf16Buf } from './bf16-buf.js';
import { UserError } from '../common/errors.js';

/** The raw addon exports (native/binding.c). */
export interface NativeAddon {
  /** symmetric: C is symmetric, its upper triangle is computed and mirrored (MatmulParams.symmetric) */
  matmul(a: HostBuf, b: HostBuf, c: HostBuf, batch: number, M: number, N: number, K: number, transA: boolean, transB: boolean, acc: boolean, sA: number, sB: number, sC: number, symmetric?: boolean): void;
  /** matmul with A and B rounded to bf16 when packed (native/gemm_bf16.c); throws unless bf16() */
  matmulBf16(a: HostBuf, b: HostBuf, c: HostBuf, batch: number, M: number, N: number, K: number, transA: boolean, transB: boolean, acc: boolean, sA: number, sB: number, sC: number, symmetric?: boolean): void;
  /**
   * C = op(A) B^T with B the bf16 bits of a weight stored [N, K] (src/tensor/bf16-buf.ts); roundA: op(A) rounded
   * to bf16 as well, on vdpbf16ps (throws unless bf16()); else op(A) stays f32 (every instruction set).
   */
  matmulBf16w(a: HostBuf, bBits: Uint16Array, c: HostBuf, batch: number, M: number, N: number, K: number, transA: boolean, acc: boolean, roundA: boolean, sA: number, sB: number, sC: number): void;
  /** whether matmulBf16 runs now: the CPU has AVX512_BF16 and the avx512 table is in use */
  bf16(): boolean;
  transpose(src: HostBuf, dst: HostBuf, rows: number, cols: number): void;
  fill(dst: HostBuf, value: number, n: number): void;
  copy(src: HostBuf, dst: HostBuf, n: number): void;
  add(a: HostBuf, b: HostBuf, out: HostBuf, n: number, acc: boolean): void;
  mul(a: HostBuf, b: HostBuf, out: HostBuf, n: number, acc: boolean): void;
  scale(x: HostBuf, alpha: number, out: HostBuf, n: number, acc: boolean): void;
  lerp(dst: HostBuf, src: HostBuf, t: number, n: number): void;
  sum(x: HostBuf, n: number): number;
  sumSquares(x: HostBuf, n: number): number;
  relu2Fwd(x: HostBuf, y: HostBuf, n: number): void;
  relu2Bwd(dy: HostBuf, x: HostBuf, dx: HostBuf, n: number, acc: boolean): void;
  softcapFwd(x: HostBuf, y: HostBuf, n: number, cap: number): void;
  softcapBwd(dy: HostBuf, y: HostBuf, dx: HostBuf, n: number, cap: number, acc: boolean): void;
  rmsFwd(x: HostBuf, y: HostBuf, rstd: HostBuf, rows: number, dim: number, eps: number): void;
  rmsBwd(dy: HostBuf, y: HostBuf, rstd: HostBuf, dx: HostBuf, rows: number, dim: number, acc: boolean): void;
  rope(src: HostBuf, dst: HostBuf, cos: HostBuf, sin: HostBuf, B: number, T: number, H: number, D: number, pos0: number, inverse: boolean, acc: boolean): void;
  attFwd(q: HostBuf, k: HostBuf, v: HostBuf, out: HostBuf, lse: HostBuf, B: number, Tq: number, Tk: number, H: number, Hkv: number, D: number, scale: number, kvStride: number): void;
  attBwd(dout: HostBuf, q: HostBuf, k: HostBuf, v: HostBuf, out: HostBuf, lse: HostBuf, dq: HostBuf, dk: HostBuf, dv: HostBuf, B: number, Tq: number, Tk: number, H: number, Hkv: number, D: number, scale: number, kvStride: number): void;
  embFwd(table: HostBuf, ids: Int32Array, out: HostBuf, n: number, dim: number): void;
  embBwd(dout: HostBuf, ids: Int32Array, dtable: HostBuf, n: number, dim: number): void;
  ceFwd(logits: HostBuf, targets: Int32Array, losses: HostBuf, lse: HostBuf, rows: number, V: number, stride: number): void;
  ceBwd(logits: HostBuf, targets: Int32Array, lse: HostBuf, dloss: HostBuf, dlogits: HostBuf, rows: number, V: number, stride: number): void;
  scceFwd(raw: HostBuf, targets: Int32Array, losses: HostBuf, lse: HostBuf, rows: number, V: number, stride: number, cap: number): void;
  scceBwd(
    raw: HostBuf, targets: Int32Array, lse: HostBuf, dloss: HostBuf, draw: HostBuf, rows: number, V: number, stride: number, cap: number): void;
  adamw(param: HostBuf, grad: HostBuf, m: HostBuf, v: HostBuf, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, step: number): void;
  threads(): number;
  /** the f32 GEMM's depth block KC: 256 with a 48 KiB L1d, 128 with 32 KiB; NANOCHAT_GEMM_KC overrides */
  gemmKc(): number;
  peakFlops(threads: number, reps: number, bf16: number): PeakMeasurement;
  isa(): string;
  setIsa(name: string): string;
}

/** Node's modules the loader needs, or undefined outside Node (a browser). */
function nodeModules() {
  const get = globalThis.process?.getBuiltinModule;
  if (typeof get !== 'function') return undefined;
  return {
    module: get('node:module'), fs: get('node:fs'), path: get('node:path'), url: get('node:url'),
  };
}

/** Where the addon is: the package root's build/Release (this file is dist/src/tensor/native.js or src/tensor/native.ts). */
function addonPath(node: NonNullable<ReturnType<typeof nodeModules>>): string {
  const { fs: { existsSync }, path: { dirname, join, resolve }, url: { fileURLToPath } } = node;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'build', 'Release', 'nanochat_native.node');
    if (existsSync(p)) return p;
    if (existsSync(join(dir, 'package.json'))) return p;
    dir = resolve(dir, '..');
  }
  return join(dir, 'build', 'Release', 'nanochat_native.node');
}

let cached: { addon: NativeAddon } | { error: string } | undefined;

/** Load the raw addon once per thread (cached); never throws. */
function loadAddon(): { addon: NativeAddon } | { error: string } {
  if (cached) return cached;
  const node = nodeModules();
  if (!node) return (cached = { error: 'the native addon runs in Node 20.16 or newer (process.getBuiltinModule), not here' });
  const path = addonPath(node);
  if (!node.fs.existsSync(path)) return (cached = { error: `${path} not found (the install-time build failed or was skipped)` });
  try {
    const require = node.module.createRequire(import.meta.url);
    cached = { addon: require(path) as NativeAddon };
  } catch (e) {
    cached = { error: `cannot load ${path}: ${(e as Error).message.split('\n')[0]}` };
  }
  return cached;
}

export class NativeBackend extends HostBackend implements Backend {
  readonly name = 'native';
  readonly threads: number;
  constructor(readonly addon: NativeAddon) {
    super();
    this.threads = addon.threads();
  }

  /**
   * Float32 peak, timed on FMA loops (native/peak.c): best of `reps` ~20 ms runs per ISA, ~0.4 s at 8; with
   * 'bf16', timed on vdpbf16ps loops (isa 'avx512bf16'; 0 and 'none' where the CPU lacks AVX512_BF16).
   */
  measurePeakFlops(threads = 0, reps = 8, precision: 'f32' | 'bf16' = 'f32'): PeakMeasurement {
    return this.addon.peakFlops(threads, reps, precision === 'bf16' ? 1 : 0);
  }

  /** The f32 GEMM's depth block (bf16: twice as many values), chosen from the L1 data cache. */
  get gemmKc(): number { return this.addon.gemmKc(); }
  /** The instruction set in use: 'avx512', 'avx2' or 'generic'. */
  get isa(): string { return this.addon.isa(); }
  /** Switch code paths (tests run all of them; 'auto' picks the best the CPU has). Returns the one in use. */
  setIsa(name: 'avx512' | 'avx2' | 'generic' | 'auto'): string { return this.addon.setIsa(name); }

  /** bf16 matmuls run on vdpbf16ps (AVX512_BF16) while the avx512 kernels are in use. */
  hasBf16Matmul(): boolean { return this.addon.bf16(); }
  /** Why hasBf16Matmul() is false, in words (undefined when it is true). */
  bf16Unavailable(): string | undefined {
    if (this.addon.bf16()) return undefined;
    return this.isa === 'avx512' ? 'this CPU has no AVX512_BF16' : `the ${this.isa} kernels are in use (NANOCHAT_ISA, or a CPU without AVX-512)`;
  }

  matmul(a: HostBuf, b: HostBuf | Bf16Buf, c: HostBuf, p: MatmulParams): void {
    const { batch, M, N, K } = p;
    if (isBf16Buf(b)) {
      // bf16 weights (inference) in the linear layout; the backward's dx = dy W reads W untransposed: refused
      if (!p.transB) throw new UserError(BF16_INFERENCE_ONLY);
      this.addon.matmulBf16w(a, b.bits, c, batch, M, N, K, p.transA, p.accumulate, p.bf16 ?? false, p.strideA ?? M * K, p.strideB ?? K * N, p.strideC ?? M * N);
      return;
    }
    if (p.bf16) {
      this.addon.matmulBf16(a, b, c, batch, M, N, K, p.transA, p.transB, p.accumulate, p.strideA ?? M * K, p.strideB ?? K * N, p.strideC ?? M * N, p.symmetric ?? false);
      return;
    }
    this.addon.matmul(a, b, c, batch, M, N, K, p.transA, p.transB, p.accumulate, p.strideA ?? M * K, p.strideB ?? K * N, p.strideC ?? M * N, p.symmetric ?? false);
  }
  transpose(src: HostBuf, dst: HostBuf, rows: number, cols: number): void { this.addon.transpose(src, dst, rows, cols); }
  fill(dst: HostBuf, value: number, n: number): void {
    if (n < 4096) dst.fill(value, 0, n); // a JS fill beats the call overhead for small n
    else this.addon.fill(dst, value, n);
  }
  copy(src: HostBuf, dst: HostBuf, n: number): void {
    if (n < 4096) dst.set(src.subarray(0, n));
    else this.addon.copy(src, dst, n);
  }
  add(a: HostBuf, b: HostBuf, out: HostBuf, n: number, accumulate: boolean): void { this.addon.add(a, b, out, n, accumulate); }
  mul(a: HostBuf, b: HostBuf, out: HostBuf, n: number, accumulate: boolean): void { this.addon.mul(a, b, out, n, accumulate); }
  scale(x: HostBuf, alpha: number, out: HostBuf, n: number, accumulate: boolean): void { this.addon.scale(x, alpha, out, n, accumulate); }
  lerp(dst: HostBuf, src: HostBuf, t: number, n: number): void { this.addon.lerp(dst, src, t, n); }
  hostSum(x: HostBuf, n: number): number { return this.addon.sum(x, n); }
  hostSumSquares(x: HostBuf, n: number): number { return this.addon.sumSquares(x, n); }
  reluSquaredForward(x: HostBuf, y: HostBuf, n: number): void { this.addon.relu2Fwd(x, y, n); }
  reluSquaredBackward(dy: HostBuf, x: HostBuf, dx: HostBuf, n: number, accumulate: boolean): void { this.addon.relu2Bwd(dy, x, dx, n, accumulate); }
  softcapForward(x: HostBuf, y: HostBuf, n: number, cap: number): void { this.addon.softcapFwd(x, y, n, cap); }
  softcapBackward(dy: HostBuf, y: HostBuf, dx: HostBuf, n: number, cap: number, accumulate: boolean): void { this.addon.softcapBwd(dy, y, dx, n, cap, accumulate); }
  rmsnormForward(x: HostBuf, y: HostBuf, rstd: HostBuf, rows: number, dim: number, eps: number): void { this.addon.rmsFwd(x, y, rstd, rows, dim, eps); }
  rmsnormBackward(dy: HostBuf, y: HostBuf, rstd: HostBuf, dx: HostBuf, rows: number, dim: number, accumulate: boolean): void { this.addon.rmsBwd(dy, y, rstd, dx, rows, dim, accumulate); }
  rope(src: HostBuf, dst: HostBuf, cos: HostBuf, sin: HostBuf, p: RopeParams): void {
    this.addon.rope(src, dst, cos, sin, p.B, p.T, p.H, p.D, p.pos0, p.inverse, p.accumulate);
  }
  attentionForward(q: HostBuf, k: HostBuf, v: HostBuf, out: HostBuf, lse: HostBuf, s: AttentionShape): void {
    this.addon.attFwd(q, k, v, out, lse, s.B, s.Tq, s.Tk, s.H, s.Hkv, s.D, s.scale, s.kvBatchStride ?? s.Tk * s.Hkv * s.D);
  }
  attentionBackward(dout: HostBuf, q: HostBuf, k: HostBuf, v: HostBuf, out: HostBuf, lse: HostBuf, dq: HostBuf, dk: HostBuf, dv: HostBuf, s: AttentionShape): void {
    this.addon.attBwd(dout, q, k, v, out, lse, dq, dk, dv, s.B, s.Tq, s.Tk, s.H, s.Hkv, s.D, s.scale, s.kvBatchStride ?? s.Tk * s.Hkv * s.D);
  }
  embeddingForward(table: HostBuf, ids: Int32Array, out: HostBuf, n: number, dim: number): void { this.addon.embFwd(table, ids, out, n, dim); }
  embeddingBackward(dout: HostBuf, ids: Int32Array, dtable: HostBuf, n: number, dim: number): void { this.addon.embBwd(dout, ids, dtable, n, dim); }
  crossEntropyForward(logits: HostBuf, targets: Int32Array, losses: HostBuf, lse: HostBuf, rows: number, V: number, stride: number): void {
    this.addon.ceFwd(logits, targets, losses, lse, rows, V, stride);
  }
  crossEntropyBackward(logits: HostBuf, targets: Int32Array, lse: HostBuf, dloss: HostBuf, dlogits: HostBuf, rows: number, V: number, stride: number): void {
    this.addon.ceBwd(logits, targets, lse, dloss, dlogits, rows, V, stride);
  }
  softcapCrossEntropyForward(
    raw: HostBuf, targets: Int32Array, losses: HostBuf, lse: HostBuf, rows: number, V: number, stride: number, cap: number,
  ): void {
    this.addon.scceFwd(raw, targets, losses, lse, rows, V, stride, cap);
  }
  softcapCrossEntropyBackward(
    raw: HostBuf, targets: Int32Array, lse: HostBuf, dloss: HostBuf, draw: HostBuf, rows: number, V: number, stride: number, cap: number,
  ): void {
    this.addon.scceBwd(raw, targets, lse, dloss, draw, rows, V, stride, cap);
  }
  adamwStep(param: HostBuf, grad: HostBuf, m: HostBuf, v: HostBuf, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void {
    this.addon.adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step);
  }
}

let backend: NativeBackend | undefined;

/** The native backend, or why it is unavailable. Never throws. */
export function loadNativeBackend(): { backend: Backend } | { error: string } {
  if (backend) return { backend };
  const r = loadAddon();
  if ('error' in r) return r;
  try {
    backend = new NativeBackend(r.addon);
    return { backend };
  } catch (e) {
    return { error: `native addon unusable: ${(e as Error).message}` };
  }
}
