// The chat evaluation tasks by name, for `nanochat chat-eval` and quick evals during SFT.
// HumanEval is not here: it needs a Python sandbox and lives with the evaluation code.

import { ARC } from './arc.js';
import { defaultDataDir } from './files.js';
import { GSM8K } from './gsm8k.js';
import { MMLU } from './mmlu.js';
import { SpellingBee } from './spelling.js';
import type { EvalTask, SliceOptions } from './task.js';

export const CHAT_EVAL_TASKS = ['ARC-Easy', 'ARC-Challenge', 'MMLU', 'GSM8K', 'SpellingBee'] as const;
export type ChatEvalTaskName = (typeof CHAT_EVAL_TASKS)[number];

/** The test split of an evaluation task (SpellingBee: 256 generated test questions unless sliced). */
export function chatEvalTask(name: ChatEvalTaskName, dataDir: string = defaultDataDir(), slice: SliceOptions = {}): EvalTask {
  switch (name) {
    case 'ARC-Easy':
    case 'ARC-Challenge':
      return new ARC({ subset: name, split: 'test', dataDir, ...slice });
    case 'MMLU':
      return new MMLU({ split: 'test', dataDir, ...slice });
    case 'GSM8K':
      return new GSM8K({ split: 'test', dataDir, ...slice });
    case 'SpellingBee':
      return new SpellingBee({ split: 'test', size: 256, dataDir, ...slice });
    default:
      throw new Error(`unknown chat eval task '${name as string}' (have: ${CHAT_EVAL_TASKS.join(', ')})`);
  }
}
