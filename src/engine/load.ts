// An engine for a pipeline stage's checkpoint, with its tokenizer. Used by `nanochat chat`, each
// `nanochat serve` worker and the serve benchmark.

import { loadModelAndTokenizer, type ModelChoice } from '../checkpoint/load.js';
import type { Stage } from '../checkpoint/checkpoint.js';
import { Engine } from './engine.js';

export interface LoadedEngine {
  engine: Engine;
  stage: Stage;
  tag: string;
  step: number;
  /** a short name for APIs and logs: "sft/d4@700" */
  modelId: string;
  /** base checkpoints complete plain text; the others speak the chat format */
  chat: boolean;
}

export function loadEngine(choice: ModelChoice): LoadedEngine {
  const { model, tok, stage, tag, step, modelId } = loadModelAndTokenizer(choice);
  return { engine: new Engine(model, tok), stage, tag, step, modelId, chat: stage !== 'base' };
}
