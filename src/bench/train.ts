// `nanochat bench train [--json]`: training throughput (tokens/s), MFU against the machine's peak (f32, or
// the bf16 one with bf16 matmuls), and peak resident memory, for our GPT (src/model/gpt.ts) at depth 4
// (head dim 64) and depth 8, vocab 8192, 512-token rows, 16 rows per optimizer step; random tokens (speed does
// not depend on the data).
// Peer in the same run: the same model trained by PyTorch CPU eager (bench/torch_gpt.py), when
// `python3 -c "import torch"` works. Debian's python3-torch calls the system BLAS: install
// libopenblas0-pthread too (the reference BLAS it falls back to runs a 1024^3 matmul at 4.5 GFLOP/s
// here, OpenBLAS at 244), and we point OpenBLAS at the fastest kernels this CPU can run (openblas.ts).

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, num, type FlagSpec } from '../cli/flags.js';
import { DTYPE_FLAG, applyDtype } from '../cli/dtype.js';
import { configFromDepth } from '../model/gpt.js';
import { syntheticStep } from '../train/synthetic-step.js';
import { getBackend } from '../tensor/backends.js';
import { matmulPrecision } from '../tensor/precision.js';
import { cpuName, readCpu } from '../tensor/cpu.js';
import { NativeBackend } from '../tensor/native.js';
import { machinePeakFlops, peakText, mfuBasis } from '../tensor/peak.js';
import { childFailure, stderrTail } from './child-failure.js';
import { openblasCoreType, type CoreTypeChoice } from './openblas.js';

const FLAGS: FlagSpec = {
  steps: { type: 'string', default: '3', help: 'timed optimizer steps per case (after one warm-up step)' },
  depths: { type: 'string', default: '4,8', help: 'comma-separated depths to measure' },
  ...DTYPE_FLAG,
};

const VOCAB = 8192, SEQ = 512, ROWS = 16;

interface Case {
  name: string;
  depth: number;
  tokens_per_sec: number;
  mfu: number;
  /** the same FLOP/s as a share of the peak timed in this run (before and after the case) */
  mfu_of_run_peak: number | null;
  peak_rss_mb: number;
  peer_tokens_per_sec: number | null;
  ratio: number | null;
}

/** The peer's tokens/s, or why there is none: no torch, a crash (its signal and last stderr lines), bad output. */
function torchPeer(depth: number, headDim: number, steps: number, blas: CoreTypeChoice): { tps: number } | { error: string } {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'torch_gpt.py');
  // Debian's python3-torch lives in the system python, which may not be the first python3 on PATH
  const python = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
  if (!python) return { error: 'no python3 that can `import torch` (Debian: apt-get install python3-torch libopenblas0-pthread)' };
  const env = { ...process.env };
  if (blas.coretype) env.OPENBLAS_CORETYPE = blas.coretype;
  if (blas.aten) env.ATEN_CPU_CAPABILITY = blas.aten;
  const r = spawnSync(python, [script, String(depth), String(headDim), String(VOCAB), String(SEQ), String(ROWS), String(steps)], {
    encoding: 'utf8', env, timeout: 30 * 60_000,
  });
  const failed = childFailure(r, blas.coretype ? `OPENBLAS_CORETYPE=${blas.coretype}` : undefined);
  if (failed) return { error: failed };
  const tail = stderrTail(r.stderr), last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const tps = (JSON.parse(last) as { tokens_per_sec?: unknown }).tokens_per_sec;
    if (typeof tps === 'number' && tps > 0) return { tps };
  } catch { /* reported below */ }
  return { error: `unexpected output ${JSON.stringify(last.slice(0, 200))}${tail ? `; stderr: ${tail}` : ''}` };
}

export async function run(argv: string[]): Promise<void> {
  const p = parse('bench train', 'Training tokens/s and MFU for depth 4 and 8 (vocab 8192, 16 x 512 tokens per step).', FLAGS, argv);
  const steps = num(p, 'steps', { min: 1 });
  const depths = String(p.values.depths).split(',').map(Number);
  const be = getBackend();
  const say = (s: string) => (p.json ? process.stderr : process.stdout).write(s + '\n');
  const isa = be instanceof NativeBackend ? `, ISA ${be.isa}` : '';
  const cpu = readCpu();
  say(`bench train: backend ${be.name} (${be.threads} threads${isa}), CPU ${cpuName(cpu)}`);
  const blas = openblasCoreType([...cpu.flags].join(' '), cpu.vendor, process.env.OPENBLAS_CORETYPE,
    be instanceof NativeBackend ? be.isa : undefined);
  say(`  PyTorch peer: ${blas.why}`);
  say(`  ${applyDtype(p, be)}`);
  // MFU is a share of the peak of the precision the matmuls run in; with bf16 the f32 share is printed beside it
  const precision = matmulPrecision(), peak = machinePeakFlops(precision), f32 = machinePeakFlops('f32');
  say(`  peak ${peakText(peak)}${precision === 'bf16' ? `; f32 peak ${peakText(f32)}` : ''}`);
  // A shared host's clock drifts by a sixth from hour to hour (Zen 5 here: 456-546 GFLOP/s f32 on 2 threads), so
  // MFU is also given against the peak timed in this run, beside each case: the best of a timing before and after.
  const timePeak = (): number => be.measurePeakFlops?.(0, 8, precision).flops ?? 0;
  let runPeak = peak.measured ?? timePeak();  // machinePeakFlops timed it just now
  const cases: Case[] = [];
  for (const depth of depths) {
    const headDim = depth <= 4 ? 64 : 128;
    // rows per pass: the whole step at depth 4; half of it (2 accumulation passes) at depth 8 to bound memory
    const B = depth <= 4 ? ROWS : ROWS / 2, accum = ROWS / B;
    const run = syntheticStep(configFromDepth(depth, VOCAB, SEQ, { headDim }), B, accum);
    await run.step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await run.step();
    const dt = (performance.now() - t0) / 1000 / steps;
    const tps = (ROWS * SEQ) / dt;
    const mfu = (run.model.flopsPerToken() * tps) / peak.flops;
    const rss = process.resourceUsage().maxRSS / 1024;
    run.dispose();
    runPeak = Math.max(runPeak, timePeak());
    const ofRun = runPeak > 0
      ? `, ${(100 * mfu * peak.flops / runPeak).toFixed(1)}% of this run's timed ${(runPeak / 1e9).toFixed(0)}` : '';
    const ofF32 = precision === 'bf16' ? ` (${(100 * mfu * peak.flops / f32.flops).toFixed(1)}% of the f32 peak)` : '';
    say(`  d${depth}: ${Math.round(tps)} tok/s, MFU ${(100 * mfu).toFixed(1)}% of ${mfuBasis(peak.flops, precision)}${ofF32}${ofRun}, peak RSS ${rss.toFixed(0)} MB — measuring the PyTorch peer...`);
    const r = torchPeer(depth, headDim, steps, blas);
    const peer = 'tps' in r ? r.tps : null;
    const c: Case = {
      name: `train_d${depth}`, depth, tokens_per_sec: tps, mfu, mfu_of_run_peak: runPeak > 0 ? mfu * peak.flops / runPeak : null,
      peak_rss_mb: rss, peer_tokens_per_sec: peer, ratio: peer ? tps / peer : null,
    };
    cases.push(c);
    if (p.json) process.stdout.write(JSON.stringify(c) + '\n');
    if ('error' in r) say(`  d${depth}: the PyTorch peer failed: ${r.error}`);
    else if (!p.json) say(`  d${depth}: ours ${Math.round(tps)} tok/s vs PyTorch CPU eager ${Math.round(r.tps)} tok/s = ${c.ratio!.toFixed(2)}x`);
  }
  const summary = {
    name: 'summary', backend: be.name, threads: be.threads, isa: be instanceof NativeBackend ? be.isa : null,
    precision, peak_gflops: peak.flops / 1e9, peak_source: peak.source, f32_peak_gflops: f32.flops / 1e9,
    run_peak_gflops: runPeak / 1e9,
    openblas_coretype: blas.coretype ?? null,
    cases: cases.length, min_mfu: Math.min(...cases.map((c) => c.mfu)),
  };
  if (p.json) process.stdout.write(JSON.stringify(summary) + '\n');
}
