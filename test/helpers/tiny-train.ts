// A tiny GPT trained by the shared loop (train/trainer.ts) on a fixed token pattern, no data files: for
// tests of what the loop does around the step (clipping, logging, checkpoints).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT } from '../../src/model/gpt.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { train, type TrainSpec } from '../../src/train/trainer.js';

/** the model tinyTrain trains: one block, 2 heads of 16, vocabulary 40, context 16 */
export const TINY_CONFIG = { vocabSize: 40, nLayer: 1, nHead: 2, nKvHead: 2, nEmbd: 32, sequenceLen: 16 };

/** `steps` steps of two micro-batches of 2 x 16 tokens; returns the checkpoint folder, the final weights and the log. */
export async function tinyTrain(
  steps: number, extra: Partial<TrainSpec> = {},
): Promise<{ dir: string; weights: Float32Array[]; log: string[] }> {
  const model = new GPT(TINY_CONFIG);
  model.initWeights(3);
  const optimizer = new Optimizer(model.paramGroups({ embedding: 0.2, unembedding: 0.004, matrix: 0.02 }));
  const dir = mkdtempSync(join(tmpdir(), 'nanochat-tiny-train-'));
  const B = 2, T = 16, log: string[] = [];
  let k = 0;
  await train({
    model, optimizer, dir, numIterations: steps, gradAccum: 2, B, T, startStep: 0,
    nextBatch: async () => {
      const ids = Int32Array.from({ length: B * (T + 1) }, (_, i) => (i * 7 + k * 3) % 40);
      k++;
      const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
      for (let r = 0; r < B; r++) for (let t = 0; t < T; t++) {
        inputs[r * T + t] = ids[r * (T + 1) + t];
        targets[r * T + t] = ids[r * (T + 1) + t + 1];
      }
      return { inputs, targets };
    },
    loaderState: () => ({ k }),
    lrMultiplier: () => 1,
    evalEvery: 0, sampleEvery: 0, saveEvery: 0,
    meta: (step) => ({ format: 1, stage: 'base', step, modelConfig: model.config, tokenizer: { vocabSize: 40, hash: 'x' }, args: {} }),
    peakFlops: 1e12,
    log: (l) => log.push(l),
    ...extra,
  });
  const weights: Float32Array[] = [];
  for (const t of model.params.values()) weights.push(await t.read());
  return { dir, weights, log };
}
