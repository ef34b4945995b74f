// Where a chat stage (mid, SFT, RL) starts from: the flags that pick the source checkpoint, loading
// it with the tokenizer it was trained with, and the learning rates it recorded.

import { num, str, type FlagSpec, type Parsed } from '../cli/common.js';
import { loadModel, parseStage, type LoadedModel, type Stage } from './checkpoint.js';
import { checkTokenizerMatches } from './tokenizer-identity.js';
import { loadTokenizer } from '../tokenizer/io.js';
import type { Task } from '../tasks/task.js';
import type { TextTokenizer } from '../tokenizer/types.js';

/** Flags shared by the chat training stages (mid, SFT, RL): where the model comes from and goes. */
export const SOURCE_FLAGS: FlagSpec = {
  source: { type: 'string', short: 'i', help: 'checkpoints to start from: base, mid or sft' },
  'model-tag': { type: 'string', help: 'tag of the source checkpoint (default: the deepest); the output uses the same tag' },
  step: { type: 'string', help: 'step of the source checkpoint (default: the latest)' },
  'resume-from-step': { type: 'string', help: 'continue this stage\'s own killed run from its checkpoint at this step, or `latest`' },
  'max-conversations': { type: 'string', help: 'use only the first N conversations of the shuffled mixture (quick runs)' },
};

export interface SourceChoice {
  source: Stage;
  tag?: string;
  step?: number;
  resume?: number | 'latest';
  maxConversations?: number;
}

export function parseSource(p: Parsed, defaultSource: Stage): SourceChoice {
  const resume = str(p, 'resume-from-step');
  return {
    source: parseStage(str(p, 'source') ?? defaultSource),
    tag: str(p, 'model-tag'),
    step: p.values.step !== undefined ? num(p, 'step', { min: 0 }) : undefined,
    resume: resume === undefined ? undefined : resume === 'latest' ? 'latest' : num(p, 'resume-from-step', { min: 0 }),
    maxConversations: p.values['max-conversations'] !== undefined ? num(p, 'max-conversations', { min: 1 }) : undefined,
  };
}

/** The first n examples of a task (the whole task when n is undefined). */
export function firstN(task: Task, n?: number): Task {
  if (n === undefined || n >= task.size()) return task;
  return { name: task.name, size: () => n, get: (i) => task.get(i) };
}

/** Load the source checkpoint and the tokenizer, refusing a tokenizer the model was not trained with. */
export function loadSource(src: SourceChoice): { loaded: LoadedModel; tok: TextTokenizer; srcArgs: Record<string, number> } {
  const loaded = loadModel(src.source, { tag: src.tag, step: src.step });
  const tok = loadTokenizer();
  checkTokenizerMatches(tok, loaded.meta);
  return { loaded, tok, srcArgs: loaded.meta.args as Record<string, number> };
}

/** The pretraining learning rates recorded in the source checkpoint (the reference's by default), times frac. */
export function scaledLrs(srcArgs: Record<string, number>, frac: number): { embedding: number; unembedding: number; matrix: number } {
  return { embedding: (srcArgs.embeddingLr ?? 0.2) * frac, unembedding: (srcArgs.unembeddingLr ?? 0.004) * frac, matrix: (srcArgs.matrixLr ?? 0.02) * frac };
}
