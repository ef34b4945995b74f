// The conversation data model shared by rendering, the chat tasks, the engine and the server.

export type Role = 'system' | 'user' | 'assistant';

/**
 * One piece of an assistant message: plain text, a tool call (`python`, the expression the
 * model writes) or the tool's answer (`python_output`, forced by the engine, never trained on).
 */
export interface Part {
  type: 'text' | 'python' | 'python_output';
  text: string;
}

export interface Message {
  role: Role;
  /** user and system messages are plain strings; assistant messages may be a list of parts */
  content: string | Part[];
}

export interface Conversation {
  messages: Message[];
  /** for multiple-choice tasks: the answer letters offered, in order (the eval compares their logits) */
  letters?: string[];
  /**
   * facts about the example for scoring and reports; eval tasks put the gold answer in `answer`
   * (the letter for MMLU/ARC, the `#### N` number for GSM8K/SpellingBee)
   */
  meta?: Record<string, string | number>;
}

/** The plain text of a message's content (parts joined, tool calls and outputs included as written). */
export function contentText(content: string | Part[]): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

/** The last assistant message's text, or '' when the conversation has none. */
export function lastAssistantText(conv: Conversation): string {
  for (let i = conv.messages.length - 1; i >= 0; i--) {
    if (conv.messages[i].role === 'assistant') return contentText(conv.messages[i].content);
  }
  return '';
}
