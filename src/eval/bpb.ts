// Bits per byte: a tokenizer-independent loss. Sum of per-token losses in nats over the sum of the
// UTF-8 bytes those target tokens stand for, divided by ln 2. Special tokens (0 bytes) and ignored
// targets (-1) are excluded from both sums, so vocabularies of any size compare fairly.

import { dirname } from 'node:path';
import type { GPT } from '../model/gpt.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { BestFitLoader } from '../data/dataloader.js';
import { HELD_OUT_PERCENT, type DocSet } from '../data/shards.js';
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

/** Per-token losses of one batch under the model, without recording a graph (a host copy, on every backend). */
export async function perTokenLoss(
  model: GPT, inputs: Int32Array, targets: Int32Array, B: number, T: number,
): Promise<Float32Array> {
  const loss = noGrad(() => model.forward(inputs, B, T, targets, 'none').loss!);
  // the loss lives in the arena: reset only once the read-back has resolved
  const losses = await loss.read();
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
    const losses = await perTokenLoss(model, batch.inputs, batch.targets, B, T);
    const s = bpbSums(losses, batch.targets, tokenBytes);
    nats += s.nats;
    bytes += s.bytes;
    tokens += B * T;
  }
  if (bytes === 0) throw new UserError(`bits per byte: the evaluation data gave no token to score; it needs more text`);
  return { bpb: nats / (Math.LN2 * bytes), tokens };
}

/**
 * Bits per byte of the model on up to `maxTokens` tokens of a set's documents, read from the start
 * in stream order (the same tokens every time, so values compare across steps). Documents are scored
 * whole, concatenated into rows as the stream gives them (a buffer of one: no best-fit reordering),
 * a document longer than the space left continuing in the next row; only the last may be cut off by
 * the budget. Every token is a target except the first of each continuation row (1 in T+1).
 */
export async function evaluateBpb(
  model: GPT, tok: TextTokenizer, set: DocSet, B: number, T: number, maxTokens: number,
): Promise<{ bpb: number; tokens: number }> {
  const loader = new BestFitLoader(tok, set, B, T, { loop: false, bufferSize: 1 });
  let batches = 0;
  return bpbOverBatches(model, tok, async () => {
    const b = await loader.nextBatch();
    if (!b && batches === 0 && set.docs === 'heldout') {
      throw new UserError(`bits per byte: no document of ${set.files.length} shard(s) in ${dirname(set.files[0])} is held out ` +
        `(${HELD_OUT_PERCENT}% are, by a hash of their text): validation needs more documents`);
    }
    batches++;
    return b && { B, ...b, T };
  }, maxTokens);
}
