// A byte-level tokenizer for tests that must not depend on a trained BPE: ids 0-255 are the UTF-8
// bytes, 256-264 the 9 special tokens in the tokenizer's order (<|bos|> first). Byte tokens make
// prompts, masks and spans easy to reason about by hand. With spellSpecials, decode() writes special
// tokens out as their names, so a test can read a rendered conversation.

import { SPECIAL_TOKENS, type SpecialToken, type TextTokenizer } from '../../src/tokenizer/types.js';

export class ByteTokenizer implements TextTokenizer {
  readonly vocabSize = 256 + SPECIAL_TOKENS.length;
  constructor(private readonly opts: { spellSpecials?: boolean } = {}) {}
  encode(text: string): number[] {
    return Array.from(Buffer.from(text, 'utf8'));
  }
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    return Uint8Array.from(Array.from(ids).filter((i) => i < 256));
  }
  decode(ids: ArrayLike<number>): string {
    if (!this.opts.spellSpecials) return Buffer.from(this.decodeBytes(ids)).toString('utf8');
    return Array.from(ids)
      .map((id) => (id < 256 ? String.fromCharCode(id) : SPECIAL_TOKENS[id - 256]))
      .join('')
      .replace(/[\x80-\xff]+/g, (s) => Buffer.from(s, 'latin1').toString('utf8'));
  }
  specialId(name: SpecialToken): number {
    const i = SPECIAL_TOKENS.indexOf(name);
    if (i < 0) throw new Error(`no special token ${name}`);
    return 256 + i;
  }
  bosId(): number {
    return this.specialId('<|bos|>');
  }
  tokenBytes(): Int32Array {
    return Int32Array.from({ length: this.vocabSize }, (_, i) => (i < 256 ? 1 : 0));
  }
}
