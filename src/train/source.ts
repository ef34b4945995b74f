// Where a chat stage (mid, SFT, RL) starts from: the source checkpoint with the tokenizer it was
// trained with, and the learning rates it recorded.

import { type LoadedModel, type Stage } from '../checkpoint/checkpoint.js';
import { loadModelAndTokenizer } from '../checkpoint/load.js';
import type { Task } from '../tasks/task.js';
import type { TextTokenizer } from '../tokenizer/types.js';

export interface SourceChoice {
  source: Stage;
  tag?: string;
  step?: number;
  resume?: number | 'latest';
  maxConversations?: number;
}

/** The first n examples of a task (the whole task when n is undefined). */
export function firstN(task: Task, n?: number): Task {
  if (n === undefined || n >= task.size()) return task;
  return { name: task.name, size: () => n, get: (i) => task.get(i) };
}

/** Load the source checkpoint and the tokenizer, refusing a tokenizer the model was not trained with. */
export function loadSource(src: SourceChoice): { loaded: LoadedModel; tok: TextTokenizer; srcArgs: Record<string, number> } {
  const loaded = loadModelAndTokenizer({ source: src.source, tag: src.tag, step: src.step });
  return { loaded, tok: loaded.tok, srcArgs: loaded.meta.args as Record<string, number> };
}

/** The pretraining learning rates recorded in the source checkpoint (the reference's by default), times frac. */
export function scaledLrs(srcArgs: Record<string, number>, frac: number): { embedding: number; unembedding: number; matrix: number } {
  return { embedding: (srcArgs.embeddingLr ?? 0.2) * frac, unembedding: (srcArgs.unembeddingLr ?? 0.004) * frac, matrix: (srcArgs.matrixLr ?? 0.02) * frac };
}
