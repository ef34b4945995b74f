// A real BpeTokenizer with no merges, for tests that save, load and serve a tokenizer the way tok-train
// makes one: ids 0-255 are the bytes, 256-264 the specials, so every letter is one token.

import { BpeTokenizer, ourSpecials } from '../../src/tokenizer/bpe.js';

export function byteBpe(): BpeTokenizer {
  const tokens = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  return new BpeTokenizer({ name: 'bytes', tokens, pattern: 'gpt4-digits2', specials: ourSpecials(256) });
}
