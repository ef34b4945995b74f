// Turning one row's tokens into display text as they come, never splitting a multi-byte UTF-8
// character.
//
// A BPE token can end in the middle of a character (emoji are 4 bytes, CJK 3, and merges cut
// anywhere), so bytes are fed to a streaming TextDecoder that holds an incomplete tail back until
// the next token completes it.
//
// Special tokens are not text. The tool call and its answer are shown the way GSM8K writes them in
// its solutions, `<<expr=result>>`, so a reader sees what was computed (our choice; the reference
// web UI printed the raw special-token spellings):
//   <|python_start|> -> "<<"   <|python_end|> -> "="   <|output_start|> -> ""   <|output_end|> -> ">>"
// Every other special (bos, user/assistant markers) shows as nothing.

import type { TextTokenizer } from '../tokenizer/types.js';

const TOOL_MARKERS = { pythonStart: '<<', pythonEnd: '=', outputStart: '', outputEnd: '>>' } as const;

export class TextStream {
  private dec = new TextDecoder('utf-8', { ignoreBOM: true });
  private readonly specialText = new Map<number, string>();
  private readonly specialIds: Set<number>;

  constructor(private readonly tok: TextTokenizer) {
    this.specialText.set(tok.specialId('<|python_start|>'), TOOL_MARKERS.pythonStart);
    this.specialText.set(tok.specialId('<|python_end|>'), TOOL_MARKERS.pythonEnd);
    this.specialText.set(tok.specialId('<|output_start|>'), TOOL_MARKERS.outputStart);
    this.specialText.set(tok.specialId('<|output_end|>'), TOOL_MARKERS.outputEnd);
    const bytes = tok.tokenBytes();
    this.specialIds = new Set();
    // special tokens have 0 bytes in tokenBytes(); so could an unused id, which decodes to nothing anyway
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0) this.specialIds.add(i);
  }

  /** The text this token completes ('' while a character is still incomplete). */
  push(id: number): string {
    if (this.specialIds.has(id)) {
      // a special ends any pending partial character (it can never be completed now)
      const tail = this.dec.decode();
      return tail + (this.specialText.get(id) ?? '');
    }
    return this.dec.decode(this.tok.decodeBytes([id]), { stream: true });
  }

  /**
   * A row's token as text, given how (or whether) the row ends with it: the end token of a 'stop'
   * renders as nothing, and a row's last token also flushes what was held back.
   */
  take(id: number, finish: string | null): string {
    const s = finish === 'stop' ? '' : this.push(id);
    return finish ? s + this.flush() : s;
  }

  /** End of the row: whatever is held back (an incomplete character becomes U+FFFD). */
  flush(): string {
    return this.dec.decode();
  }
}
