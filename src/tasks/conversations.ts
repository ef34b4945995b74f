// General conversations: our stand-in for SmolTalk (which we do not have), built from the small
// chat sets in <data>/sft/ (about 8.5k conversations, see shared/data/README.md).
//
// Used for training: alpaca_gpt4_en_demo, gpteacher_roleplay, gpteacher_codegen, lima.
// Kept OUT of training, because they are evaluation sets and training on them would contaminate
// any score on them: alpaca_eval_llama31_405b (AlpacaEval) and mt_bench_questions (MT-bench);
// also self_instruct_user_oriented, whose 252 prompts are AlpacaEval's "selfinstruct" subset.
// The identity files are their own task (identity.ts).
//
// Split: SmolTalk had a test split; we hold out every 20th conversation of each file as "test"
// (validation loss during SFT/midtraining) and train on the rest.

import type { Conversation } from '../chat/conversation.js';
import { normalizeMessages } from '../chat/render.js';
import { UserError } from '../common/errors.js';
import { defaultDataDir, readJsonl } from './files.js';
import { SlicedTask, type SliceOptions } from './task.js';

export const GENERAL_CONVERSATION_FILES = [
  'alpaca_gpt4_en_demo.jsonl',
  'gpteacher_roleplay.jsonl',
  'gpteacher_codegen.jsonl',
  'lima.jsonl',
] as const;

/** Evaluation sets that must never be trained on (listed so a test can check they are excluded). */
export const EVAL_ONLY_FILES = ['alpaca_eval_llama31_405b.jsonl', 'mt_bench_questions.jsonl', 'self_instruct_user_oriented.jsonl'] as const;

export const HOLDOUT_EVERY = 20;

export interface GeneralConversationsOptions extends SliceOptions {
  split: 'train' | 'test';
  dataDir?: string;
  /** override the file list (names inside sft/) */
  files?: readonly string[];
}

/** Read chat files of sft/ and check each conversation renders (alternating roles). */
export function loadChatFile(dir: string, file: string): Conversation[] {
  const rows = readJsonl<{ messages?: Conversation['messages'] }>(dir, 'sft', file);
  return rows.map((row, k) => {
    const conv: Conversation = { messages: row.messages ?? [], meta: { source: file, index: k } };
    try {
      normalizeMessages(conv);
    } catch (e) {
      throw new UserError(`sft/${file} line ${k + 1}: ${(e as Error).message}`);
    }
    return conv;
  });
}

export class GeneralConversations extends SlicedTask {
  readonly name: string;
  private readonly convs: Conversation[] = [];

  constructor(opts: GeneralConversationsOptions) {
    super(opts);
    this.name = `conversations-${opts.split}`;
    const dir = opts.dataDir ?? defaultDataDir();
    for (const file of opts.files ?? GENERAL_CONVERSATION_FILES) {
      if ((EVAL_ONLY_FILES as readonly string[]).includes(file)) throw new Error(`sft/${file} is an evaluation set and must not be used for training`);
      loadChatFile(dir, file).forEach((c, k) => {
        const heldOut = k % HOLDOUT_EVERY === 0;
        if (heldOut === (opts.split === 'test')) this.convs.push(c);
      });
    }
  }

  protected fullSize(): number {
    return this.convs.length;
  }

  protected example(i: number): Conversation {
    return this.convs[i];
  }
}
