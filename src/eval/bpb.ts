// Bits per byte: a tokenizer-independent loss. Sum of per-token losses in nats over the sum of the
// UTF-8 bytes those target tokens stand for, divided by ln 2. Special tokens (0 bytes) and ignored
// targets (-1) are excluded from both sums, so vocabularies of any size compare fairly.

import type { GPT } from '../model/gpt.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { BestFitLoader } from '../data/dataloader.js';
import { arena, noGrad } from '../tensor/tensor.js';
import type { Batch } from '../data/batch.js';
import { UserError } from '../common/errors.js';

/** Accumulate nats and bytes of one batch's per-token losses. */
export function bpbSums(losses: Float32Array, targets: Int32Array, tokenBytes: Int32Array): { nats: number; bytes: number } {
  let nats = 0, bytes = 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    if (t < 0) continue;
    const nb = tokenBytes[t];
    if (nb <= 0) continue;
    nats += losses[i];
    bytes += nb;
  }
  return { nats, bytes };
}

/** Per-token losses of one batch under the model, without recording a graph. */
export function perTokenLoss(model: GPT, inputs: Int32Array, targets: Int32Array, B: number, T: number): Float32Array {
  const losses = noGrad(() => model.forward(inputs, B, T, targets, 'none').loss!.toArray());
  arena.reset();
  return losses;
}

/** Bits per byte over batches from `next` (until it returns null or maxTokens are scored). */
export async function bpbOverBatches(model: GPT, tok: TextTokenizer, next: () => Promise<Batch | null> | Batch | null, maxTokens: number): Promise<{ bpb: number; tokens: number }> {
  const tokenBytes = tok.tokenBytes();
  let nats = 0, bytes = 0, tokens = 0;
  while (tokens < maxTokens) {
    const batch = await next();
    if (!batch) break;
    const B = batch.B!, T = batch.T!;
    const losses = perTokenLoss(model, batch.inputs, batch.targets, B, T);
    const s = bpbSums(losses, batch.targets, tokenBytes);
    nats += s.nats;
    bytes += s.bytes;
    tokens += B * T;
  }
  if (bytes === 0) throw new UserError(`bits per byte: the evaluation data gave no complete row (T+1 tokens) to score; it needs more text (a bigger validation shard) or a shorter --max-seq-len`);
  return { bpb: nats / (Math.LN2 * bytes), tokens };
}

/**
 * Bits per byte of the model on up to `maxTokens` tokens of the given shards, read from the start
 * (the same tokens every time, so values compare across steps).
 */
export async function evaluateBpb(model: GPT, tok: TextTokenizer, files: string[], B: number, T: number, maxTokens: number): Promise<{ bpb: number; tokens: number }> {
  const loader = new BestFitLoader(tok, files, B, T, { loop: false });
  return bpbOverBatches(model, tok, async () => {
    const b = await loader.nextBatch();
    return b && { B, ...b, T };
  }, maxTokens);
}
