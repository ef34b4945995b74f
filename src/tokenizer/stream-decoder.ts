// Streaming decoding (chat UIs print tokens as they come): a token may end in the middle of a UTF-8
// character (emoji and CJK are 3-4 bytes and BPE cuts anywhere), so incomplete trailing bytes are
// held back until the next token completes them. TextDecoder in stream mode does exactly this
// bookkeeping; invalid bytes become U+FFFD as soon as they are known to be invalid.

import type { BpeTokenizer } from './bpe.js';

export class StreamDecoder {
  private readonly dec = new TextDecoder('utf-8', { ignoreBOM: true }); // keep a leading U+FEFF
  constructor(private readonly tok: Pick<BpeTokenizer, 'bytesOf'>) {}

  /** Text completed by this token ('' while a character is still incomplete). */
  push(id: number): string {
    return this.dec.decode(this.tok.bytesOf(id), { stream: true });
  }

  /** Text completed by several tokens. */
  pushAll(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.push(ids[i]);
    return s;
  }

  /** End of stream: whatever is held back (an incomplete character decodes to U+FFFD). */
  flush(): string {
    return this.dec.decode();
  }
}
