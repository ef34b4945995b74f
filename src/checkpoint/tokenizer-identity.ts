// Which tokenizer a checkpoint was trained with: its vocabulary size and a hash of every token's bytes
// and the special tokens, so a model is never silently paired with a different tokenizer.

import { createHash } from 'node:crypto';
import type { TextTokenizer } from '../tokenizer/types.js';
import { SPECIAL_TOKENS } from '../tokenizer/types.js';
import { UserError } from '../common/errors.js';
import { tokenizerDir } from '../common/paths.js';

export function tokenizerIdentity(tok: TextTokenizer): { vocabSize: number; hash: string } {
  const h = createHash('sha256');
  const nSpecial = SPECIAL_TOKENS.length;
  for (let id = 0; id < tok.vocabSize - nSpecial; id++) {
    const b = tok.decodeBytes([id]);
    h.update(Uint8Array.of(b.length & 255, b.length >> 8));
    h.update(b);
  }
  for (const s of SPECIAL_TOKENS) h.update(`${s}=${tok.specialId(s)};`);
  return { vocabSize: tok.vocabSize, hash: h.digest('hex').slice(0, 16) };
}

/** A clear error when a checkpoint's tokenizer is not the one loaded now. */
export function checkTokenizerMatches(tok: TextTokenizer, meta: { tokenizer: { vocabSize: number; hash: string } }): void {
  const id = tokenizerIdentity(tok);
  if (id.hash !== meta.tokenizer.hash) {
    throw new UserError(`this checkpoint was trained with a different tokenizer (vocab ${meta.tokenizer.vocabSize}, hash ${meta.tokenizer.hash}) than the one in ${tokenizerDir()} (vocab ${id.vocabSize}, hash ${id.hash}): restore the tokenizer it was trained with, or retrain the model`);
  }
}

