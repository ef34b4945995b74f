// A tiny TextTokenizer for tests: one token per UTF-8 byte (ids 0-255), then the 9 specials (256-264).
// Byte-level tokens make prompts and spans easy to reason about by hand.

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
    return Buffer.from(this.decodeBytes(ids)).toString('utf8');
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
    const t = new Int32Array(this.vocabSize);
    t.fill(1, 0, 256);
    return t;
  }
}
