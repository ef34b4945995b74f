// `nanochat bench kernels [--json]`: GFLOP/s (GB/s for memory-bound kernels) of the native backend and
// of the peer, @tensorflow/tfjs-core with the tfjs-backend-wasm backend (SIMD; threads only if that
// build gets them in node), measured in the same run on the same shapes.
//
// FLOP conventions: matmul 2*M*N*K. Causal attention forward 2 matmuls over the causal half,
// 2 * 2*B*H*(T*T/2)*D; backward 2.5x forward (5 block products vs 2), so fwd+bwd = 3.5x forward.
// The peer's attention (tf.matMul + additive mask + softmax, and the backward written out with tf ops,
// since tfjs-core's ESM build registers no gradients under node) computes the full T x T square; its
// figure uses the same causal FLOP count, i.e. it is the effective rate for the same job.
// Bytes: RMSNorm forward+backward moves x, y (fwd) and dy, y, dx (bwd) = 5 * 4 bytes per element;
// cross-entropy forward+backward reads the logits twice and writes dlogits = 3 * 4 bytes per logit.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse, num, out, emitJson } from '../cli/flags.js';
import type { Backend } from '../tensor/backend.js';
import { loadNativeBackend, NativeBackend } from '../tensor/native.js';
import { cpuName, readCpu } from '../tensor/cpu.js';
import { gf, machinePeakFlops, peakText } from '../tensor/peak.js';

const FLAGS = {
  reps: { type: 'string', default: '7', help: 'timed repetitions per native case (median reported)' },
  'peer-reps': { type: 'string', default: '3', help: 'timed repetitions per peer case (median reported)' },
  'no-peer': { type: 'boolean', default: false, help: 'skip the tfjs-wasm peer' },
} as const;

interface Result { name: string; unit: 'gflops' | 'gbps'; value: number; peer: number | null }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** median seconds of `reps` timed calls after `warm` untimed ones */
function time(fn: () => void, reps: number, warm = 2): number {
  for (let i = 0; i < warm; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(ts);
}

function rnd(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; a[i] = (s / 4294967296 * 2 - 1) * scale; }
  return a;
}

// The peer's API surface we use (typed loosely: tfjs is a devDependency, loaded only here).
/* eslint-disable @typescript-eslint/no-explicit-any */
type TF = any;

async function loadPeer(): Promise<{ tf: TF; info: string } | { error: string }> {
  try {
    const tf: TF = await import('@tensorflow/tfjs-core' as string);
    const wasm: TF = await import('@tensorflow/tfjs-backend-wasm' as string);
    const req = createRequire(import.meta.url);
    const dist = dirname(req.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(join(dist, '/'));
    if (!(await tf.setBackend('wasm'))) return { error: 'tf.setBackend("wasm") failed' };
    await tf.ready();
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), mt = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    return { tf, info: `tfjs-backend-wasm ${wasm.version_wasm ?? ''} (simd ${simd}, threads ${mt})` };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

export async function run(argv: string[]): Promise<void> {
  const p = parse('bench kernels', 'Kernel throughput of the native backend vs tfjs-backend-wasm.', FLAGS, argv);
  const log = out(p);
  const reps = num(p, 'reps', { min: 1 }), peerReps = num(p, 'peer-reps', { min: 1 });
  const loaded = loadNativeBackend();
  if ('error' in loaded) throw new Error(`bench kernels needs the native backend: ${loaded.error}`);
  const nb: Backend = loaded.backend;
  const isa = nb instanceof NativeBackend ? nb.isa : '?';
  const peer = p.values['no-peer'] ? { error: 'skipped (--no-peer)' } : await loadPeer();
  const tf: TF | undefined = 'tf' in peer ? peer.tf : undefined;
  const kc = nb instanceof NativeBackend
    ? `, GEMM depth block ${nb.gemmKc} (from the L1d cache; NANOCHAT_GEMM_KC overrides)` : '';
  log(`native: ${isa}, ${nb.threads} threads${kc}; peer: ${'info' in peer ? peer.info : `n/a (${peer.error})`}`);
  // f32 kernels are a share of the f32 FMA peak, bf16 matmuls of the bf16 dot-product peak (vdpbf16ps)
  const peak = machinePeakFlops('f32'), bf16Peak = nb.hasBf16Matmul?.() ? machinePeakFlops('bf16') : undefined;
  // The peak is the best ever measured on this CPU (a busy moment must not flatter MFU), but a shared host's
  // clock drifts by a sixth from hour to hour (this Zen 5: 456-546 GFLOP/s on 2 threads), so each figure is
  // also given as a share of the peak timed in this run, beside the kernels: the better of a timing at the
  // start (the one machinePeakFlops just made) and one at the end.
  const timeNow = (precision: 'f32' | 'bf16'): number => nb.measurePeakFlops?.(0, 8, precision).flops ?? 0;
  const runPeak = { f32: peak.measured ?? timeNow('f32'), bf16: bf16Peak ? bf16Peak.measured ?? timeNow('bf16') : 0 };
  const peakOf = (name: string): number => (bf16Peak && name.startsWith('bf16') ? bf16Peak : peak).flops;
  const runPeakOf = (name: string): number => (bf16Peak && name.startsWith('bf16') ? runPeak.bf16 : runPeak.f32);
  const pct = (r: Result): string => `${(100 * r.value * 1e9 / peakOf(r.name)).toFixed(0)}% of ${r.name.startsWith('bf16') ? 'bf16 ' : ''}peak`;
  log(`CPU ${cpuName(readCpu())}; f32 peak ${peakText(peak)}${bf16Peak ? `; bf16 peak ${peakText(bf16Peak)}` : ''}`);
  const bf16Now = bf16Peak ? `, bf16 ${gf(runPeak.bf16)}` : '';
  log(`this run's timed peak (2 threads, best of 8 short runs): f32 ${gf(runPeak.f32)}${bf16Now}`);
  log(`${'case'.padEnd(34)} ${'native'.padStart(10)} ${'peer'.padStart(10)}  ratio`);
  const results: Result[] = [];
  const record = (r: Result): void => {
    results.push(r);
    const u = r.unit === 'gflops' ? 'GFLOP/s' : 'GB/s';
    log(`${r.name.padEnd(34)} ${r.value.toFixed(1).padStart(10)} ${(r.peer === null ? 'n/a' : r.peer.toFixed(1)).padStart(10)}  ${r.peer ? (r.value / r.peer).toFixed(1) + 'x' : ''}  ${u}${r.unit === 'gflops' ? `  ${pct(r)}` : ''}`);
    if (p.json) {
      const o: Record<string, unknown> = { bench: 'kernels', name: r.name };
      if (r.unit === 'gflops') {
        o.gflops = +r.value.toFixed(2); o.peer_gflops = r.peer === null ? null : +r.peer.toFixed(2);
        o.pct_of_peak = +(100 * r.value * 1e9 / peakOf(r.name)).toFixed(1);
        o.pct_of_run_peak = +(100 * r.value * 1e9 / runPeakOf(r.name)).toFixed(1);
      }
      else { o.gbps = +r.value.toFixed(2); o.peer_gbps = r.peer === null ? null : +r.peer.toFixed(2); }
      o.ratio = r.peer ? +(r.value / r.peer).toFixed(2) : null;
      process.stdout.write(JSON.stringify(o) + '\n');
    }
  };
  const peerTime = (fn: () => void): number | null => {
    if (!tf) return null;
    try { return time(() => tf.tidy(fn), peerReps, 1); } catch (e) { log(`  (peer failed: ${(e as Error).message.split('\n')[0]})`); return null; }
  };

  // ---- matmul: M x K x N, A [M,K] B [K,N]; TN = A stored [K,M] (dW = X^T dY), NT = B stored [N,K] (dX = dY W^T)
  for (const [M, K, N] of [[4096, 256, 1024], [4096, 1024, 256], [4096, 256, 4096], [1024, 1024, 1024]]) {
    const a = rnd(M * K), b = rnd(K * N), c = new Float32Array(M * N);
    const flop = 2 * M * N * K;
    for (const [transA, transB, tag] of [[false, false, 'NN'], [true, false, 'TN'], [false, true, 'NT']] as const) {
      const s = time(() => nb.matmul(a, b, c, { batch: 1, M, N, K, transA, transB, accumulate: false }), reps);
      let ps: number | null = null;
      if (tf) {
        // tf.matMul's own transposeA/transposeB path runs at 0.3-3 GFLOP/s in tfjs-backend-wasm 4.22
        // (measured here), so the peer transposes explicitly and then multiplies: its faster way.
        const ta = tf.tensor(a, transA ? [K, M] : [M, K]), tb = tf.tensor(b, transB ? [N, K] : [K, N]);
        ps = peerTime(() => { tf.matMul(transA ? tf.transpose(ta) : ta, transB ? tf.transpose(tb) : tb).dataSync(); });
        ta.dispose(); tb.dispose();
      }
      record({ name: `matmul ${M}x${K}x${N} ${tag}`, unit: 'gflops', value: flop / s / 1e9, peer: ps ? flop / ps / 1e9 : null });
    }
  }

  // ---- bf16 matmul (AVX512_BF16, what training uses by default where the CPU has it: --dtype) on the same
  // shapes, against the f32 kernel timed again beside it so both see the same machine load
  if (nb.hasBf16Matmul?.()) {
    const speedups: number[] = [];
    for (const [M, K, N] of [[4096, 256, 1024], [4096, 1024, 256], [4096, 256, 4096], [1024, 1024, 1024]]) {
      const a = rnd(M * K), b = rnd(K * N), c = new Float32Array(M * N);
      const flop = 2 * M * N * K;
      for (const [transA, transB, tag] of [[false, false, 'NN'], [true, false, 'TN'], [false, true, 'NT']] as const) {
        const mm = { batch: 1, M, N, K, transA, transB, accumulate: false };
        const sf = time(() => nb.matmul(a, b, c, mm), reps), sb = time(() => nb.matmul(a, b, c, { ...mm, bf16: true }), reps);
        speedups.push(sf / sb);
        record({ name: `bf16 matmul ${M}x${K}x${N} ${tag}`, unit: 'gflops', value: flop / sb / 1e9, peer: null });
        log(`  (f32 beside it ${(flop / sf / 1e9).toFixed(1)} GFLOP/s: bf16 ${(sf / sb).toFixed(2)}x)`);
      }
    }
    log(`bf16 matmul vs f32: min ${Math.min(...speedups).toFixed(2)}x, median ${median(speedups).toFixed(2)}x`);
  } else log('bf16 matmul: n/a (needs AVX512_BF16 and the avx512 kernels)');

  // ---- fused causal attention forward + backward
  {
    const B = 8, H = 2, T = 512, D = 128, scale = 1 / Math.sqrt(D);
    const shape = { B, Tq: T, Tk: T, H, Hkv: H, D, scale };
    const n = B * T * H * D;
    const q = rnd(n), k = rnd(n), v = rnd(n), o = new Float32Array(n), lse = new Float32Array(B * H * T), dout = rnd(n);
    const dq = new Float32Array(n), dk = new Float32Array(n), dv = new Float32Array(n);
    const fwdFlop = 2 * 2 * B * H * (T * T / 2) * D, flop = 3.5 * fwdFlop;
    const s = time(() => {
      nb.attentionForward(q, k, v, o, lse, shape);
      nb.attentionBackward(dout, q, k, v, o, lse, dq, dk, dv, shape);
    }, reps);
    let ps: number | null = null;
    if (tf) {
      // [B, T, H, D] -> [B, H, T, D]; scores [B, H, T, T] with an additive causal mask
      const bhtd = (x: Float32Array): TF => tf.transpose(tf.tensor(x, [B, T, H, D]), [0, 2, 1, 3]);
      const tq = bhtd(q), tk = bhtd(k), tv = bhtd(v), tdo = bhtd(dout);
      const mask = tf.mul(tf.sub(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), 1), 1e9);
      // forward and the hand-written backward (the ESM build of tfjs-core ships no gradient registry to node)
      ps = peerTime(() => {
        // explicit transposes: tf.matMul's transpose flags take a slow path in tfjs-backend-wasm
        const tr = (x: TF): TF => tf.transpose(x, [0, 1, 3, 2]);
        const P = tf.softmax(tf.add(tf.mul(tf.matMul(tq, tr(tk)), scale), mask));
        const O = tf.matMul(P, tv);
        const dV = tf.matMul(tr(P), tdo);
        const dP = tf.matMul(tdo, tr(tv));
        const dS = tf.mul(P, tf.sub(dP, tf.sum(tf.mul(tdo, O), -1, true)));
        const dQ = tf.mul(tf.matMul(dS, tk), scale), dK = tf.mul(tf.matMul(tr(dS), tq), scale);
        for (const t of [O, dV, dQ, dK]) t.dataSync();
      });
      for (const t of [tq, tk, tv, tdo, mask]) t.dispose();
    }
    record({ name: `attention fwd+bwd B${B} H${H} T${T} D${D}`, unit: 'gflops', value: flop / s / 1e9, peer: ps ? flop / ps / 1e9 : null });
  }

  // ---- RMSNorm forward + backward, 4096 x 1024
  {
    const rows = 4096, dim = 1024, n = rows * dim;
    const x = rnd(n), y = new Float32Array(n), rstd = new Float32Array(rows), dy = rnd(n), dx = new Float32Array(n);
    const bytes = 5 * 4 * n;
    const s = time(() => { nb.rmsnormForward(x, y, rstd, rows, dim, 1.1920929e-7); nb.rmsnormBackward(dy, y, rstd, dx, rows, dim, false); }, reps);
    let ps: number | null = null;
    if (tf) {
      const tx = tf.tensor(x, [rows, dim]), tdy = tf.tensor(dy, [rows, dim]);
      ps = peerTime(() => {
        const r = tf.rsqrt(tf.add(tf.mean(tf.square(tx), 1, true), 1.1920929e-7)), y = tf.mul(tx, r);
        const dx = tf.mul(r, tf.sub(tdy, tf.mul(y, tf.mean(tf.mul(tdy, y), 1, true))));
        y.dataSync(); dx.dataSync();
      });
      tx.dispose(); tdy.dispose();
    }
    record({ name: `rmsnorm fwd+bwd ${rows}x${dim}`, unit: 'gbps', value: bytes / s / 1e9, peer: ps ? bytes / ps / 1e9 : null });
  }

  // ---- cross-entropy forward + backward, 4096 rows x V = 8192
  {
    const rows = 4096, V = 8192, n = rows * V;
    const logits = rnd(n, 5), targets = new Int32Array(rows).map((_, i) => (i * 7919) % V);
    const losses = new Float32Array(rows), lse = new Float32Array(rows), dloss = new Float32Array(rows).fill(1 / rows), dl = new Float32Array(n);
    const bytes = 3 * 4 * n;
    const s = time(() => {
      nb.crossEntropyForward(logits, targets, losses, lse, rows, V, V);
      nb.crossEntropyBackward(logits, targets, lse, dloss, dl, rows, V, V);
    }, reps);
    let ps: number | null = null;
    if (tf) {
      const tl = tf.tensor(logits, [rows, V]), oh = tf.oneHot(tf.tensor1d(targets, 'int32'), V);
      ps = peerTime(() => {
        const ls = tf.logSoftmax(tl);
        const loss = tf.neg(tf.sum(tf.mul(ls, oh), 1));
        const dl = tf.mul(tf.sub(tf.exp(ls), oh), 1 / rows);
        loss.dataSync(); dl.dataSync();
      });
      tl.dispose(); oh.dispose();
    }
    record({ name: `cross-entropy fwd+bwd ${rows}x${V}`, unit: 'gbps', value: bytes / s / 1e9, peer: ps ? bytes / ps / 1e9 : null });
  }

  // ---- the training loss: cross-entropy of 15 tanh(raw / 15), fused (reads raw twice, writes draw: 3 * 4 bytes
  // per logit), against the unfused native ops (softcap, cross-entropy, its backward, softcap backward: 7 * 4 bytes)
  // at the same byte count, so both figures are effective rates for the same job
  {
    const rows = 4096, V = 8192, n = rows * V, cap = 15;
    const raw = rnd(n, 40), targets = new Int32Array(rows).map((_, i) => (i * 7919) % V);
    const losses = new Float32Array(rows), lse = new Float32Array(rows), dloss = new Float32Array(rows).fill(1 / rows);
    const dl = new Float32Array(n), capped = new Float32Array(n), dcapped = new Float32Array(n);
    const bytes = 3 * 4 * n;
    const s = time(() => {
      nb.softcapCrossEntropyForward(raw, targets, losses, lse, rows, V, V, cap);
      nb.softcapCrossEntropyBackward(raw, targets, lse, dloss, dl, rows, V, V, cap);
    }, reps);
    const su = time(() => {
      nb.softcapForward(raw, capped, n, cap);
      nb.crossEntropyForward(capped, targets, losses, lse, rows, V, V);
      nb.crossEntropyBackward(capped, targets, lse, dloss, dcapped, rows, V, V);
      nb.softcapBackward(dcapped, capped, dl, n, cap, false);
    }, reps);
    let ps: number | null = null;
    if (tf) {
      const tr = tf.tensor(raw, [rows, V]), oh = tf.oneHot(tf.tensor1d(targets, 'int32'), V);
      ps = peerTime(() => {
        const th = tf.tanh(tf.div(tr, cap)), ls = tf.logSoftmax(tf.mul(th, cap));
        const loss = tf.neg(tf.sum(tf.mul(ls, oh), 1));
        const dl = tf.mul(tf.mul(tf.sub(tf.exp(ls), oh), 1 / rows), tf.sub(1, tf.square(th)));
        loss.dataSync(); dl.dataSync();
      });
      tr.dispose(); oh.dispose();
    }
    const name = `softcap+CE fused fwd+bwd ${rows}x${V}`;
    record({ name, unit: 'gbps', value: bytes / s / 1e9, peer: ps ? bytes / ps / 1e9 : null });
    log(`  fused ${(s * 1e3).toFixed(1)} ms vs unfused native ops ${(su * 1e3).toFixed(1)} ms: ${(su / s).toFixed(2)}x`);
  }

  const atEnd = { f32: timeNow('f32'), bf16: bf16Peak ? timeNow('bf16') : 0 };
  runPeak.f32 = Math.max(runPeak.f32, atEnd.f32); runPeak.bf16 = Math.max(runPeak.bf16, atEnd.bf16);
  const mm = results.filter((r) => r.name.startsWith('matmul'));
  const att = results.find((r) => r.name.startsWith('attention'))!;
  const mmMedian = median(mm.map((r) => r.value));
  const ratios = mm.filter((r) => r.peer).map((r) => r.value / r.peer!);
  const summary = {
    bench: 'kernels', summary: true, backend: nb.name, isa, threads: nb.threads,
    matmul_min_gflops: +Math.min(...mm.map((r) => r.value)).toFixed(2),
    matmul_median_gflops: +mmMedian.toFixed(2),
    peak_gflops: +(peak.flops / 1e9).toFixed(1), peak_source: peak.source,
    bf16_peak_gflops: bf16Peak ? +(bf16Peak.flops / 1e9).toFixed(1) : null,
    matmul_median_pct_of_peak: +(100 * mmMedian * 1e9 / peak.flops).toFixed(1),
    run_peak_gflops: +(runPeak.f32 / 1e9).toFixed(1),
    run_bf16_peak_gflops: bf16Peak ? +(runPeak.bf16 / 1e9).toFixed(1) : null,
    matmul_min_pct_of_run_peak: +(100 * Math.min(...mm.map((r) => r.value)) * 1e9 / runPeak.f32).toFixed(1),
    matmul_median_pct_of_run_peak: +(100 * mmMedian * 1e9 / runPeak.f32).toFixed(1),
    matmul_min_ratio_vs_peer: ratios.length ? +Math.min(...ratios).toFixed(2) : null,
    attention_gflops: +att.value.toFixed(2),
    attention_pct_of_matmul: +(100 * att.value / mmMedian).toFixed(1),
    peer: 'info' in peer ? peer.info : null,
  };
  log(`matmul: min ${summary.matmul_min_gflops} GFLOP/s, median ${summary.matmul_median_gflops} (${(100 * mmMedian * 1e9 / peak.flops).toFixed(0)}% of peak); attention ${summary.attention_pct_of_matmul}% of the matmul median`);
  const bf = results.filter((r) => r.name.startsWith('bf16 matmul'));
  const pctOf = (v: number, of: number): string => (100 * v * 1e9 / of).toFixed(0);
  const share = (rs: Result[], of: number): string => rs.length && of > 0
    ? `${pctOf(Math.min(...rs.map((r) => r.value)), of)}-${pctOf(Math.max(...rs.map((r) => r.value)), of)}%`
    : 'n/a';
  const bf16End = bf16Peak ? `, bf16 ${gf(runPeak.bf16)}` : '';
  log(`of this run's timed peak (${gf(runPeak.f32)}${bf16End}, better of start and end): ` +
    `matmul ${share(mm, runPeak.f32)}${bf.length ? `, bf16 matmul ${share(bf, runPeak.bf16)}` : ''}, ` +
    `attention ${share([att], runPeak.f32)}`);
  emitJson(p, summary);
}
