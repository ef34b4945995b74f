// Loading an engine for a pipeline stage: the checkpoint (`-i base|mid|sft|rl`, `--model-tag`,
// `--step`) plus the tokenizer in $NANOCHAT_BASE_DIR/tokenizer, checked to be the one it was
// trained with. Used by `nanochat chat`, each `nanochat serve` worker and the serve benchmark.

import { loadModel, parseStage, type Stage } from '../train/checkpoint.js';
import { checkTokenizerMatches } from '../train/tokenizer-identity.js';
import { loadTokenizer } from '../tokenizer/io.js';
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

export function loadEngine(source: string, opts: { tag?: string; step?: number } = {}): LoadedEngine {
  const stage = parseStage(source);
  const loaded = loadModel(stage, opts);
  const tok = loadTokenizer();
  checkTokenizerMatches(tok, loaded.meta);
  return {
    engine: new Engine(loaded.model, tok),
    stage,
    tag: loaded.tag,
    step: loaded.step,
    modelId: `${stage}/${loaded.tag}@${loaded.step}`,
    chat: stage !== 'base',
  };
}
