// Fixtures for the evaluation-command tests: a temp $NANOCHAT_BASE_DIR with a byte-level tokenizer
// saved the way `tok-train` saves one, and tiny GPTs whose outputs are known by construction, saved
// as checkpoints so the commands load them like real ones.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BpeTokenizer } from '../../src/tokenizer/bpe.js';
import { saveTokenizer } from '../../src/tokenizer/io.js';
import { GPT } from '../../src/model/gpt.js';
import { checkpointDir, saveCheckpoint, type Stage } from '../../src/checkpoint/checkpoint.js';
import { tokenizerIdentity } from '../../src/checkpoint/tokenizer-identity.js';
import { byteBpe } from '../helpers/byte-bpe.js';
import { hostData } from '../../src/tensor/tensor.js';

/** A fresh temp base dir (set as NANOCHAT_BASE_DIR) holding the byte tokenizer. */
export function freshBaseDir(prefix = 'nanochat-eval-'): { base: string; tok: BpeTokenizer } {
  const base = mkdtempSync(join(tmpdir(), prefix));
  process.env.NANOCHAT_BASE_DIR = base;
  const tok = byteBpe();
  saveTokenizer(tok, join(base, 'tokenizer'));
  return { base, tok };
}

/**
 * A GPT whose next-token logits are the same at every position, whatever the input: every weight is
 * zero except the embedding (every row the unit vector e0) and the head rows listed in `prefer`
 * (row = weight * e0). With zero output projections the blocks are the identity, so the final hidden
 * state is always 8*e0 (after RMSNorm, C = 64) and token id's logit is softcap(8 * weight).
 */
export function constantModel(tok: BpeTokenizer, prefer: Record<number, number>, sequenceLen = 512): GPT {
  const model = new GPT({ vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nKvHead: 2, nEmbd: 64, sequenceLen });
  for (const t of model.params.values()) hostData(t.data).fill(0);
  const C = 64;
  const wte = hostData(model.param('transformer.wte.weight').data);
  for (let row = 0; row < model.vocabPadded; row++) wte[row * C] = 1;
  const head = hostData(model.param('lm_head.weight').data);
  for (const [id, w] of Object.entries(prefer)) head[Number(id) * C] = w;
  return model;
}

/** Save a model as a checkpoint of `stage` (tag d1 unless given), paired with the tokenizer. */
export async function saveModel(stage: Stage, model: GPT, tok: BpeTokenizer, opts: { tag?: string; step?: number } = {}): Promise<void> {
  const step = opts.step ?? 10;
  await saveCheckpoint(checkpointDir(stage, opts.tag ?? 'd1'), model, {
    format: 1, stage, step, modelConfig: model.config, tokenizer: tokenizerIdentity(tok), args: {},
  });
}
