// How fast this machine trains a tier's model: a few optimizer steps of the real model on random tokens
// (speed does not depend on the data), timed in this process before the pipeline starts. The speedrun
// turns the rate into step counts (plan.ts), so a tier takes about the same wall-clock time on a fast
// AVX-512 machine and on a slower AVX2-only one.
//
// One step here is one optimizer step as base training runs it: `batchTokens / (rows x seqLen)` forward+backward
// passes of `rows` x `seqLen` tokens (gradient accumulation), then the update. Timing one pass and an update
// instead made the update count once per pass: the cpu tier (2 passes a step) calibrated at 4,524 tokens/s
// and then trained at 5,850, finishing its base stage 17 minutes inside its budget.
// The rate is the median of the timed steps: a moment when
// another process holds a core slows one step, not the estimate. The matmuls run at the precision the
// training stages default to (bf16 where the CPU has AVX512_BF16), since that is what the plan will time.

import { configFromDepth } from '../model/gpt.js';
import { syntheticStep } from '../train/synthetic-step.js';
import { getBackend } from '../tensor/backends.js';
import { defaultMatmulPrecision, matmulPrecision, setMatmulPrecision } from '../tensor/precision.js';

export interface ModelShape {
  depth: number;
  headDim: number;
  seqLen: number;
  vocab: number;
  /** rows per forward/backward pass */
  rows: number;
  /** tokens per optimizer step (default one pass: rows x seqLen); a whole number of passes */
  batchTokens?: number;
}

export interface Calibration {
  /** training tokens per second (forward, backward and optimizer) */
  tokensPerSecond: number;
  /** seconds of each timed step, in order */
  stepSeconds: number[];
  /** forward+backward passes in each timed step (absent in plans saved before it was recorded: 1) */
  passes?: number;
  backend: string;
  threads: number;
}

/**
 * Time `timedSteps` optimizer steps after one warm-up step; `onStep(i, of, seconds)` hears of each as it ends (i = 0
 * is the warm-up), for shapes whose steps take long (a d20 step of 524,288 tokens on a GPU).
 */
export async function calibrate(
  shape: ModelShape, timedSteps = 3, onStep?: (i: number, of: number, seconds: number) => void,
): Promise<Calibration> {
  const config = configFromDepth(shape.depth, shape.vocab, shape.seqLen, { headDim: shape.headDim });
  const passTokens = shape.rows * shape.seqLen, passes = Math.max(1, Math.round((shape.batchTokens ?? passTokens) / passTokens));
  const run = syntheticStep(config, shape.rows, passes);
  const before = matmulPrecision();
  setMatmulPrecision(defaultMatmulPrecision(getBackend()));
  const stepSeconds: number[] = [];
  try {
    const w0 = performance.now();
    await run.step(); // warm-up: first touch of the activation arena and the kernels' packing buffers
    onStep?.(0, timedSteps, (performance.now() - w0) / 1000);
    for (let i = 0; i < timedSteps; i++) {
      const t0 = performance.now();
      await run.step();
      stepSeconds.push((performance.now() - t0) / 1000);
      onStep?.(i + 1, timedSteps, stepSeconds[i]);
    }
  } finally {
    setMatmulPrecision(before);
    run.dispose();
  }
  const median = [...stepSeconds].sort((a, b) => a - b)[Math.floor(stepSeconds.length / 2)];
  const be = getBackend();
  return { tokensPerSecond: run.tokensPerStep / median, stepSeconds, passes, backend: be.name, threads: be.threads };
}
