// A tiny tokenizer for tests: ids 0-255 are UTF-8 bytes, 256..264 the special tokens in SPEC order.

import { SPECIAL_TOKENS, type SpecialToken, type TextTokenizer } from '../../src/tokenizer/types.js';

export class ByteTokenizer implements TextTokenizer {
  readonly vocabSize = 256 + SPECIAL_TOKENS.length;

  encode(text: string): number[] {
    return Array.from(Buffer.from(text, 'utf8'));
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    return Uint8Array.from(Array.from(ids).filter((id) => id < 256));
  }

  decode(ids: ArrayLike<number>): string {
    // specials are spelled out so a test can read a rendered conversation
    return Array.from(ids)
      .map((id) => (id < 256 ? String.fromCharCode(id) : SPECIAL_TOKENS[id - 256]))
      .join('')
      .replace(/[\x80-\xff]+/g, (s) => Buffer.from(s, 'latin1').toString('utf8'));
  }

  specialId(name: SpecialToken): number {
    const k = SPECIAL_TOKENS.indexOf(name);
    if (k < 0) throw new Error(`no special token ${name}`);
    return 256 + k;
  }

  bosId(): number {
    return this.specialId('<|bos|>');
  }

  tokenBytes(): Int32Array {
    return Int32Array.from({ length: this.vocabSize }, (_, id) => (id < 256 ? 1 : 0));
  }
}
