// A real optimizer step of a GPT on random tokens, for timing: training speed does not depend on the
// data, so the benchmark (`nanochat bench train`) and the speedrun's calibration time this instead of
// loading a corpus. Same forward, backward and AdamW + Muon update as a training run.

import { GPT, type GPTConfig } from '../model/gpt.js';
import { arena } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';

export interface SyntheticStep {
  model: GPT;
  /** tokens one call of step() trains on: rows x sequence length x accumulation passes */
  tokensPerStep: number;
  /**
   * One forward+backward per accumulation pass, then the optimizer update. Resolves once the step has run: on a
   * device backend the kernels are only queued, so it reads the last loss back (one float) to wait for them.
   */
  step(): Promise<void>;
  /** frees the activation arena once timing is done */
  dispose(): void;
}

export function syntheticStep(config: GPTConfig, rows: number, accumulation = 1, seed = 12345): SyntheticStep {
  const T = config.sequenceLen, V = config.vocabSize;
  const model = new GPT(config);
  model.initWeights(1);
  const opt = new Optimizer(model.paramGroups({ embedding: 0.2, unembedding: 0.004, matrix: 0.02 }));
  // a linear congruential generator is enough for token ids whose values do not matter
  let s = seed;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % V;
  const ids = Int32Array.from({ length: rows * T }, rand), targets = Int32Array.from({ length: rows * T }, rand);
  return {
    model,
    tokensPerStep: rows * T * accumulation,
    async step() {
      let loss = 0;
      for (let a = 0; a < accumulation; a++) {
        const l = model.forward(ids, rows, T, targets).loss!;
        l.backward();
        if (a === accumulation - 1) loss = (await l.read())[0];
        arena.reset();
      }
      opt.stepAll();
      opt.zeroGrad();
      if (!Number.isFinite(loss)) throw new Error(`synthetic step: the loss is ${loss}`);
    },
    dispose: () => arena.clear(),
  };
}
