// An assistant turn's tokens back as message parts (text, python call, python output), so a chat
// that continues keeps the tool calls in the chat format instead of their display text.

import type { Part } from '../chat/conversation.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { engineSpecials } from './tool-state.js';

export function partsFromTokens(tok: TextTokenizer, tokens: number[]): Part[] {
  const sp = engineSpecials(tok);
  const parts: Part[] = [];
  let kind: Part['type'] = 'text';
  let buf: number[] = [];
  const flush = () => {
    if (buf.length > 0 || kind !== 'text') parts.push({ type: kind, text: tok.decode(buf) });
    buf = [];
  };
  for (const t of tokens) {
    if (t === sp.pythonStart) { flush(); kind = 'python'; }
    else if (t === sp.outputStart) { flush(); kind = 'python_output'; }
    else if (t === sp.pythonEnd || t === sp.outputEnd) { flush(); kind = 'text'; }
    else if (t === sp.assistantEnd || t === sp.bos) break;
    else buf.push(t);
  }
  if (buf.length > 0) parts.push({ type: kind, text: tok.decode(buf) });
  return parts;
}
