// What the rest of the pipeline needs from a tokenizer (the BPE implementation lives beside this file).

/** The 9 special tokens, after the merges, in nanochat's order: ids V-9 .. V-1. */
export const SPECIAL_TOKENS = [
  '<|bos|>',
  '<|user_start|>',
  '<|user_end|>',
  '<|assistant_start|>',
  '<|assistant_end|>',
  '<|python_start|>',
  '<|python_end|>',
  '<|output_start|>',
  '<|output_end|>',
] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

export interface TextTokenizer {
  /** total vocabulary: 256 bytes + merges + specials */
  readonly vocabSize: number;
  /** plain-text encoding: never produces special tokens, even if the text contains their spelling */
  encode(text: string): number[];
  /** byte-exact decoding (invalid UTF-8 becomes U+FFFD only at the very end of a string) */
  decode(ids: ArrayLike<number>): string;
  decodeBytes(ids: ArrayLike<number>): Uint8Array;
  /** id of a special token; throws if the tokenizer has none of that name */
  specialId(name: SpecialToken): number;
  bosId(): number;
  /** UTF-8 byte length of every token id (0 for special tokens), for bits per byte */
  tokenBytes(): Int32Array;
}
