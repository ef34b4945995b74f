// The one call every command uses to get a model: the stage's checkpoint (tag defaults to the deepest,
// step to the latest) and the tokenizer in $NANOCHAT_BASE_DIR/tokenizer, refused with a clear error
// when it is not the tokenizer the model was trained with.

import { loadTokenizer } from '../tokenizer/io.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { loadModel, parseStage, type LoadedModel, type Stage } from './checkpoint.js';
import { checkTokenizerMatches } from './tokenizer-identity.js';

/** Which checkpoint: the stage (`base`, `mid`, `sft`, `rl`), and optionally its tag and step. */
export interface ModelChoice {
  source: Stage | string;
  tag?: string;
  step?: number;
}

export interface LoadedCheckpoint extends LoadedModel {
  stage: Stage;
  tok: TextTokenizer;
  /** a short name for APIs and logs: "sft/d4@700" */
  modelId: string;
}

export function loadModelAndTokenizer(choice: ModelChoice): LoadedCheckpoint {
  const stage = parseStage(choice.source);
  const loaded = loadModel(stage, { tag: choice.tag, step: choice.step });
  const tok = loadTokenizer();
  checkTokenizerMatches(tok, loaded.meta);
  return { ...loaded, stage, tok, modelId: `${stage}/${loaded.tag}@${loaded.step}` };
}
