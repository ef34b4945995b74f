// The tokenizer's public surface for the rest of the pipeline.

export { SPECIAL_TOKENS, type SpecialToken, type TextTokenizer } from './types.js';
export { BpeTokenizer } from './bpe.js';
export { loadTokenizer, saveTokenizer } from './io.js';
export { StreamDecoder } from './stream-decoder.js';
export { EncodePool } from './encode-pool.js';
export { trainTokenizer } from './train.js';
