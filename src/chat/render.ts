// Turning a conversation into token ids and a loss mask, in nanochat's chat format.
//
//   <|bos|> <|user_start|> user text <|user_end|> <|assistant_start|> assistant ... <|assistant_end|> ...
//
// The mask says which positions the model is trained to predict (1) and which it only reads (0):
// it writes the assistant's text, its tool calls (python_start, code, python_end) and the
// <|assistant_end|> that hands the turn back; it never writes bos, the user's turns,
// <|assistant_start|> (the engine puts it there) or the tool's output (the engine forces it,
// <|output_start|> and <|output_end|> included).

import type { TextTokenizer } from '../tokenizer/types.js';
import type { Conversation, Message, Part } from './conversation.js';

export type { Conversation, Message, Part, Role } from './conversation.js';
export { contentText, lastAssistantText } from './conversation.js';

export interface Rendered {
  ids: number[];
  /** same length as ids: 1 where the token is a training target, else 0 */
  mask: number[];
}

/** An error in the shape of a conversation (wrong roles, bad parts); the message names the culprit. */
export class ConversationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConversationError';
  }
}

/**
 * Fold a leading system message into the first user message (`system + "\n\n" + user`) and check
 * that the roles then alternate user, assistant, user, ... The input is not modified.
 * Message numbers in errors count from 0 in the conversation as given.
 */
export function normalizeMessages(conv: Conversation): Message[] {
  const given = conv?.messages;
  if (!Array.isArray(given) || given.length === 0) throw new ConversationError('conversation has no messages');
  let messages = given;
  let offset = 0; // index in `given` of messages[0], for error messages
  if (given[0].role === 'system') {
    const [system, first] = given;
    if (!first || first.role !== 'user') {
      throw new ConversationError(`message 1 must be a user message after the system message, got ${first ? `'${first.role}'` : 'nothing'}`);
    }
    if (typeof system.content !== 'string') throw new ConversationError('message 0 (system) must have string content');
    if (typeof first.content !== 'string') throw new ConversationError('message 1 (user) must have string content');
    messages = [{ role: 'user', content: system.content + '\n\n' + first.content }, ...given.slice(2)];
    offset = 1;
  }
  messages.forEach((m, i) => {
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (m.role !== expected) {
      const n = i + offset;
      throw new ConversationError(
        `message ${n} has role '${m.role}' but '${expected}' was expected: after an optional leading system message, roles must alternate user/assistant starting with user`,
      );
    }
    if (m.role === 'user' && typeof m.content !== 'string') throw new ConversationError(`message ${i + offset} (user) must have string content`);
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) throw new ConversationError(`message ${i + offset} has content that is neither a string nor a list of parts`);
  });
  return messages;
}

/** Render a whole conversation for training: ids and loss mask, cut to maxTokens if given. */
export function renderConversation(tok: TextTokenizer, conv: Conversation, maxTokens?: number): Rendered {
  const messages = normalizeMessages(conv);
  const offset = messages.length === conv.messages.length ? 0 : 1; // a folded system message shifts numbering
  const sp = specials(tok);
  const ids: number[] = [];
  const mask: number[] = [];
  const add = (tokens: number | number[], m: 0 | 1) => {
    for (const t of typeof tokens === 'number' ? [tokens] : tokens) {
      ids.push(t);
      mask.push(m);
    }
  };

  add(sp.bos, 0);
  messages.forEach((msg, i) => {
    if (msg.role === 'user') {
      add(sp.userStart, 0);
      add(tok.encode(msg.content as string), 0);
      add(sp.userEnd, 0);
      return;
    }
    add(sp.assistantStart, 0);
    if (typeof msg.content === 'string') {
      add(tok.encode(msg.content), 1);
    } else {
      msg.content.forEach((part: Part, j) => {
        const text = tok.encode(part.text);
        if (part.type === 'text') {
          add(text, 1);
        } else if (part.type === 'python') {
          add(sp.pythonStart, 1);
          add(text, 1);
          add(sp.pythonEnd, 1);
        } else if (part.type === 'python_output') {
          add(sp.outputStart, 0);
          add(text, 0);
          add(sp.outputEnd, 0);
        } else {
          throw new ConversationError(`message ${i + offset}, part ${j}: unknown part type '${(part as Part).type}' (expected text, python or python_output)`);
        }
      });
    }
    add(sp.assistantEnd, 1);
  });

  if (maxTokens !== undefined && ids.length > maxTokens) {
    ids.length = maxTokens;
    mask.length = maxTokens;
  }
  return { ids, mask };
}

/**
 * The prompt the model completes: the conversation without its final assistant message (if the
 * last message is an assistant's), ending with <|assistant_start|>.
 */
export function renderForCompletion(tok: TextTokenizer, conv: Conversation): number[] {
  const messages = normalizeMessages(conv);
  const kept = messages[messages.length - 1].role === 'assistant' ? messages.slice(0, -1) : messages;
  // `kept` is already normalized (system folded), so render it as a fresh conversation.
  const { ids } = renderConversation(tok, { messages: kept });
  ids.push(tok.specialId('<|assistant_start|>'));
  return ids;
}

function specials(tok: TextTokenizer) {
  return {
    bos: tok.bosId(),
    userStart: tok.specialId('<|user_start|>'),
    userEnd: tok.specialId('<|user_end|>'),
    assistantStart: tok.specialId('<|assistant_start|>'),
    assistantEnd: tok.specialId('<|assistant_end|>'),
    pythonStart: tok.specialId('<|python_start|>'),
    pythonEnd: tok.specialId('<|python_end|>'),
    outputStart: tok.specialId('<|output_start|>'),
    outputEnd: tok.specialId('<|output_end|>'),
  };
}
