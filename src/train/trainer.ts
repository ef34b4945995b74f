// The training loop shared by pretraining and midtraining: gradient accumulation, the LR schedule,
// global gradient-norm clipping, logging (loss, gradient norm, lr multiplier, tokens/s, MFU, ETA) to the
// terminal and a JSONL file, a loss-curve SVG, periodic evaluation and samples, and crash-safe
// checkpoints that resume exactly.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GPT } from '../model/gpt.js';
import { mul, scale, sum } from '../tensor/ops.js';
import { Tensor, arena } from '../tensor/tensor.js';
import { getBackend } from '../tensor/backends.js';
import type { Buf } from '../tensor/backend.js';
import { UserError } from '../common/errors.js';
import { formatDuration } from '../common/progress.js';
import type { Optimizer } from './optimizer.js';
import type { Batch } from '../data/batch.js';
import { saveCheckpoint, type CheckpointMeta } from '../checkpoint/checkpoint.js';
import { pruneCheckpoints } from '../checkpoint/prune.js';
import { lineChartSvg } from '../report/plot.js';
import { writeFileAtomic } from '../common/atomic.js';

export interface TrainSpec {
  model: GPT;
  optimizer: Optimizer;
  /** checkpoint folder of this run */
  dir: string;
  numIterations: number;
  /** micro-batches per optimizer step */
  gradAccum: number;
  /** clip the global gradient norm to this before each step; 0 or undefined: no clipping (the norm is logged either way) */
  gradClip?: number;
  /** rows and sequence length of one micro-batch */
  B: number;
  T: number;
  /** 0 for a fresh run, k when resuming from the checkpoint of step k */
  startStep: number;
  nextBatch(): Promise<Batch>;
  loaderState(): unknown;
  lrMultiplier(step: number): number;
  evalEvery: number;
  evaluate?(step: number): Promise<Record<string, number>>;
  sampleEvery: number;
  sample?(step: number): Promise<void>;
  /** 0 = only at the end */
  saveEvery: number;
  /** after each save, delete the oldest checkpoints of `dir` beyond this many; undefined keeps all */
  keepLast?: number;
  /** the checkpoint meta for a step (the trainer fills step, loaderState and metrics) */
  meta(step: number): CheckpointMeta;
  /** peak FLOP/s of this machine at the matmul precision (f32 FMA, or the bf16 dot-product peak), for MFU */
  peakFlops: number;
  log(line: string): void;
  /** per-token losses (nats) of a weighted micro-batch, after its backward (RL's entropy estimate) */
  onTokenLosses?(batch: Batch, nll: Float32Array): void;
  /** extra numbers of the step just taken (e.g. RL's mean reward), shown in the log line and metrics */
  stepStats?(): Record<string, number>;
}

export interface TrainResult {
  steps: number;
  finalLoss: number;
  tokens: number;
  seconds: number;
  tokensPerSec: number;
  mfu: number;
  evals: Record<string, number>[];
}

export interface MetricRecord {
  step: number;
  loss?: number;
  /** global gradient norm of the step, before clipping */
  grad_norm?: number;
  lrm?: number;
  dt_ms?: number;
  tok_per_sec?: number;
  mfu?: number;
  [k: string]: number | undefined;
}

/** Metrics of earlier runs in this folder, up to and including `upTo` (later ones belong to a run we replace). */
export function readMetrics(dir: string, upTo = Infinity): MetricRecord[] {
  const path = join(dir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MetricRecord).filter((r) => r.step <= upTo);
}

function writeLossCurve(dir: string, title: string, records: MetricRecord[]): void {
  const series = [{ name: 'train loss', color: '#1f77b4', points: records.filter((r) => r.loss !== undefined).map((r) => [r.step, r.loss!] as [number, number]) }];
  const evalKeys = [...new Set(records.flatMap((r) => Object.keys(r).filter((k) => k.startsWith('val_'))))];
  const colors = ['#d62728', '#2ca02c', '#9467bd'];
  evalKeys.forEach((k, i) => series.push({ name: k, color: colors[i % 3], points: records.filter((r) => r[k] !== undefined).map((r) => [r.step, r[k]!] as [number, number]) }));
  writeFileAtomic(join(dir, 'loss.svg'), [lineChartSvg(title, 'step', series)]);
}

/**
 * The global gradient norm ||g|| = sqrt(sum over every parameter of sum(g_i^2)) after accumulation, and
 * clipping as PyTorch's clip_grad_norm_ (the reference's): when ||g|| > maxNorm every gradient is scaled
 * by maxNorm / (||g|| + 1e-6), so the norm becomes maxNorm (to a relative 1e-6 / ||g||); at or below
 * maxNorm, and with maxNorm 0, nothing changes. Returns the norm before clipping, the one logged. The sums
 * run in a fixed order, so the same gradients give the same bits (resume stays exact).
 */
export async function clipGradNorm(grads: readonly Buf[], maxNorm: number): Promise<number> {
  const be = getBackend();
  const norm = arena.alloc(1);
  be.clipGradNorm(grads, grads.map((g) => g.length), maxNorm, norm);
  return (await be.read(norm))[0];
}

export async function train(spec: TrainSpec): Promise<TrainResult> {
  const { model, optimizer, dir, numIterations, gradAccum, B, T } = spec;
  mkdirSync(dir, { recursive: true });
  const metricsPath = join(dir, 'metrics.jsonl');
  const records = readMetrics(dir, spec.startStep);
  writeFileSync(metricsPath, records.map((r) => JSON.stringify(r) + '\n').join(''));
  const append = (r: MetricRecord) => {
    records.push(r);
    writeFileSync(metricsPath, JSON.stringify(r) + '\n', { flag: 'a' });
  };
  const evals: Record<string, number>[] = [];
  let smooth = 0, lastLoss = NaN, trainSeconds = 0, timedSteps = 0, totalTokens = 0, timedTokens = 0;
  const start = performance.now();

  const runEval = async (step: number) => {
    if (!spec.evaluate) return;
    const m = await spec.evaluate(step);
    evals.push({ step, ...m });
    append({ step, ...m });
    spec.log(`step ${step}: ${Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' | ')}`);
    writeLossCurve(dir, `${spec.meta(step).stage} training`, records);
  };
  const save = async (step: number) => {
    const meta = spec.meta(step);
    meta.step = step;
    meta.loaderState = spec.loaderState();
    meta.metrics = { loss: lastLoss, ...(evals.length ? evals[evals.length - 1] : {}) };
    await saveCheckpoint(dir, model, meta, optimizer);
    spec.log(`saved checkpoint step ${step} to ${dir}`);
    if (spec.keepLast !== undefined) {
      const removed = pruneCheckpoints(dir, spec.keepLast, step);
      const steps = `step${removed.length > 1 ? 's' : ''} ${removed.join(', ')}`;
      if (removed.length) spec.log(`removed checkpoint ${steps} (--keep-last ${spec.keepLast})`);
    }
  };

  if (spec.startStep === 0 && spec.evalEvery > 0) await runEval(0);
  for (let step = spec.startStep; step < numIterations; step++) {
    const t0 = performance.now();
    const lrm = spec.lrMultiplier(step);
    optimizer.lrMultiplier = lrm;
    let lossSum = 0, stepTokens = 0;
    for (let micro = 0; micro < gradAccum; micro++) {
      const batch = await spec.nextBatch();
      const bB = batch.B ?? B, bT = batch.T ?? T;
      stepTokens += bB * bT;
      let loss: Tensor;
      if (batch.weights) {
        // weighted objective: the weights already normalize across the step, so no 1/gradAccum here
        const nll = model.forward(batch.inputs, bB, bT, batch.targets, 'none').loss!;
        loss = sum(mul(nll, Tensor.from(batch.weights, [bB * bT])));
        loss.backward();
        if (spec.onTokenLosses) spec.onTokenLosses(batch, await nll.read());
      } else {
        loss = model.forward(batch.inputs, bB, bT, batch.targets).loss!;
        // average over micro-batches: each contributes loss / gradAccum to the summed gradients
        (gradAccum > 1 ? scale(loss, 1 / gradAccum) : loss).backward();
      }
      lossSum += (await loss.read())[0];
      arena.reset();
    }
    const loss = lossSum / gradAccum;
    if (!Number.isFinite(loss)) {
      throw new UserError(`loss became ${loss} at step ${step + 1}: training diverged (try lower learning rates, e.g. --matrix-lr, or check the data). Nothing was overwritten; the last checkpoint in ${dir} is intact.`);
    }
    const gradNorm = await clipGradNorm([...model.params.values()].map((t) => t.grad!), spec.gradClip ?? 0);
    arena.reset();
    optimizer.stepAll();
    optimizer.zeroGrad();
    lastLoss = loss;
    const dt = (performance.now() - t0) / 1000;
    // skip the first step's time in the averages: it allocates the arena
    if (step > spec.startStep) { trainSeconds += dt; timedSteps++; timedTokens += stepTokens; }
    const k = step - spec.startStep + 1;
    smooth = 0.9 * smooth + 0.1 * loss;
    const debiased = smooth / (1 - Math.pow(0.9, k));
    const tps = stepTokens / dt, mfu = (model.flopsPerToken() * stepTokens) / dt / spec.peakFlops;
    totalTokens += stepTokens;
    const avgDt = timedSteps ? trainSeconds / timedSteps : dt;
    const eta = avgDt * (numIterations - step - 1);
    const extra = spec.stepStats?.() ?? {};
    spec.log(`step ${String(step + 1).padStart(String(numIterations).length)}/${numIterations} (${((100 * (step + 1)) / numIterations).toFixed(1)}%) | loss ${debiased.toFixed(4)} | ` +
      `grad norm ${gradNorm.toFixed(4)} | ` +
      Object.entries(extra).map(([k, v]) => `${k} ${v.toFixed(4)} | `).join('') +
      `lrm ${lrm.toFixed(2)} | dt ${(dt * 1000).toFixed(0)}ms | tok/s ${Math.round(tps).toLocaleString('en-US')} | mfu ${(100 * mfu).toFixed(1)}% | eta ${formatDuration(eta)}`);
    append({ step: step + 1, loss, grad_norm: gradNorm, lrm, dt_ms: dt * 1000, tok_per_sec: tps, mfu, ...extra });
    const done = step + 1;
    const last = done === numIterations;
    if (spec.evalEvery > 0 && (done % spec.evalEvery === 0 || last)) await runEval(done);
    if (spec.sample && spec.sampleEvery > 0 && (done % spec.sampleEvery === 0 || last)) await spec.sample(done);
    if (last || (spec.saveEvery > 0 && done % spec.saveEvery === 0)) await save(done);
  }
  writeLossCurve(dir, `${spec.meta(numIterations).stage} training`, records);
  const seconds = (performance.now() - start) / 1000;
  // throughput over the timed steps (all but the first of this process), or over everything when there was one step
  const tokensPerSec = timedSteps ? timedTokens / trainSeconds : totalTokens / seconds;
  return {
    steps: numIterations,
    finalLoss: lastLoss,
    tokens: totalTokens,
    seconds,
    tokensPerSec,
    mfu: (model.flopsPerToken() * tokensPerSec) / spec.peakFlops,
    evals,
  };
}
