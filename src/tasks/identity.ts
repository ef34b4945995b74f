// Identity conversations: who the model is and who made it (the reference generated ~1000 such
// conversations with an LLM; we have two small real sets in sft/).
//  - identity_template.jsonl (91): placeholders {{name}} -> "nanochat", {{author}} -> the author.
//  - fastchat_identity_vicuna.jsonl (500): FastChat's identity chats that name Vicuna and LMSYS;
//    we rewrite those names to nanochat and the author.
// The mixtures list this task twice (oversampling x2, as the reference did).

import type { Conversation, Message } from '../chat/conversation.js';
import { loadChatFile } from './conversations.js';
import { defaultDataDir } from './files.js';
import { SlicedTask, type SliceOptions } from './task.js';

const MODEL_NAME = 'nanochat';
export const DEFAULT_AUTHOR = 'the nanochat-ts team';

export interface IdentityOptions extends SliceOptions {
  dataDir?: string;
  /** who built the model, as it should say it ("trained by <author>") */
  author?: string;
}

/** Rewrite a FastChat identity answer: Vicuna -> nanochat, LMSYS (in all its spellings) -> author. */
export function rewriteVicunaIdentity(text: string, author: string): string {
  const org = 'Large Model Systems Organization \\(LMSYS\\)';
  const patterns = [
    new RegExp(`([Rr]esearchers|[Ss]cientists) (from|at) ${org}`, 'g'),
    new RegExp(`${org} (researchers|scientists)`, 'g'),
    new RegExp(org, 'g'),
    /\bLMSYS\b/g,
  ];
  let out = text;
  for (const re of patterns) {
    // "Researchers from LMSYS created me." -> "The nanochat-ts developers created me.": capitalize
    // the author only where the replaced words started a sentence
    out = out.replace(re, (...args) => {
      const offset = args[args.length - 2] as number;
      const atStart = /(^|[.!?]\s+)$/.test(out.slice(0, offset));
      return atStart ? author.charAt(0).toUpperCase() + author.slice(1) : author;
    });
  }
  return out.replace(/\bVicuna\b/g, MODEL_NAME);
}

function fillTemplate(text: string, author: string): string {
  return text.replace(/\{\{name\}\}/g, MODEL_NAME).replace(/\{\{author\}\}/g, author);
}

export class IdentityConversations extends SlicedTask {
  readonly name = 'identity';
  private readonly convs: Conversation[];

  constructor(opts: IdentityOptions = {}) {
    super(opts);
    const dir = opts.dataDir ?? defaultDataDir();
    const author = opts.author ?? DEFAULT_AUTHOR;
    const mapText = (conv: Conversation, f: (s: string) => string): Conversation => ({
      ...conv,
      messages: conv.messages.map((m): Message => ({ role: m.role, content: typeof m.content === 'string' ? f(m.content) : m.content })),
    });
    this.convs = [
      ...loadChatFile(dir, 'identity_template.jsonl').map((c) => mapText(c, (s) => fillTemplate(s, author))),
      ...loadChatFile(dir, 'fastchat_identity_vicuna.jsonl').map((c) => mapText(c, (s) => rewriteVicunaIdentity(s, author))),
    ];
  }

  protected fullSize(): number {
    return this.convs.length;
  }

  protected example(i: number): Conversation {
    return this.convs[i];
  }
}
