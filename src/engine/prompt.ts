// Turning what a user typed into prompt tokens.
//
// Chat checkpoints (mid, sft, rl): the conversation in the chat format, ending <|assistant_start|>
// (src/chat/render.ts renders it). Base checkpoints never saw that format, so they get plain text
// completion: <|bos|> then the text; for a conversation, its messages' text joined by blank lines
// (a base model simply continues the document).

import { renderForCompletion, contentText, type Conversation } from '../chat/render.js';
import type { TextTokenizer } from '../tokenizer/types.js';

export function chatPrompt(tok: TextTokenizer, conv: Conversation, chat: boolean): number[] {
  if (chat) return renderForCompletion(tok, conv);
  return completionPrompt(tok, conv.messages.map((m) => contentText(m.content)).join('\n\n'));
}

export function completionPrompt(tok: TextTokenizer, text: string): number[] {
  return [tok.bosId(), ...tok.encode(text)];
}
