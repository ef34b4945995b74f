// Greedy samples of fixed prompts during base training: a quick look at what the model has learned.

import type { GPT } from '../model/gpt.js';
import type { TextTokenizer } from '../tokenizer/types.js';

/** The reference's sample prompts. */
export const SAMPLE_PROMPTS = [
  'The capital of France is',
  'The chemical symbol of gold is',
  'If yesterday was Friday, then tomorrow will be',
  'The opposite of hot is',
  'The planets of the solar system are:',
  'My favorite color is',
  'If 5*x + 3 = 13, then x is',
];

/** Greedy (argmax) continuation of `maxTokens` tokens with the KV cache; stops early at <|bos|>. */
export function greedyContinue(model: GPT, tok: TextTokenizer, prompt: string, maxTokens: number): string {
  const ids = [tok.bosId(), ...tok.encode(prompt)];
  const len = Math.min(ids.length + maxTokens, model.config.sequenceLen * 10);
  if (ids.length >= len) return '';
  const cache = model.newCache(1, len);
  let logits = model.forwardCached(Int32Array.from(ids), 1, ids.length, cache);
  const outIds: number[] = [];
  const V = model.config.vocabSize;
  while (outIds.length < maxTokens && cache.pos < len) {
    let best = 0;
    for (let j = 1; j < V; j++) if (logits[j] > logits[best]) best = j;
    if (best === tok.bosId()) break;
    outIds.push(best);
    if (cache.pos >= len) break;
    logits = model.forwardCached(Int32Array.of(best), 1, 1, cache);
  }
  return tok.decode(outIds);
}

export function greedySamples(model: GPT, tok: TextTokenizer, prompts: string[], maxTokens: number): string[] {
  return prompts.map((p) => `${p}${greedyContinue(model, tok, p, maxTokens)}`.replace(/\n/g, '\\n'));
}
