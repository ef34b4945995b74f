// The one call every command uses to get a model: the stage's checkpoint (tag defaults to the deepest,
// step to the latest) and the tokenizer in $NANOCHAT_BASE_DIR/tokenizer, refused with a clear error
// when it is not the tokenizer the model was trained with.
//
// The source may also be a checkpoint folder written by nanochat itself (Python): `nanochat:DIR`, or any
// source with a `/` in it (`./d20`, `/models/nanochat-d32`). Its model_<step>.pt and tokenizer.pkl are read
// directly (nanochat-import.ts); its stage comes from its parent folder (chatsft_checkpoints -> sft), sft outside
// nanochat's layout; `--step` picks the step, the tag is the folder's name.

import { basename } from 'node:path';
import { UserError } from '../common/errors.js';
import { loadTokenizer } from '../tokenizer/io.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { loadModel, parseStage, type LoadedModel, type Stage } from './checkpoint.js';
import { loadNanochat, locateNanochat, storedInBf16 } from './nanochat-import.js';
import { getBackend } from '../tensor/backends.js';
import { HostBackend } from '../tensor/host-backend.js';
import { checkTokenizerMatches } from './tokenizer-identity.js';
import { inferInBf16 } from '../tensor/bf16-weights.js';

/** Which checkpoint: the stage (`base`, `mid`, `sft`, `rl`) or a nanochat folder, and optionally its tag and step. */
export interface ModelChoice {
  source: Stage | string;
  tag?: string;
  step?: number;
  /** weight storage for inference (--dtype): bf16 converts the matrices after loading (tensor/bf16-weights.ts) */
  dtype?: 'bf16' | 'f32';
}

export interface LoadedCheckpoint extends LoadedModel {
  stage: Stage;
  tok: TextTokenizer;
  /** a short name for APIs and logs: "sft/d4@700", "nanochat:d32@650" */
  modelId: string;
}

const NANOCHAT_PREFIX = 'nanochat:';

/** The nanochat checkpoint folder a source names, or undefined for one of our stages. */
export function nanochatFolder(source: string): string | undefined {
  if (source.startsWith(NANOCHAT_PREFIX)) return source.slice(NANOCHAT_PREFIX.length);
  return source.includes('/') ? source : undefined;
}

function ourStage(source: string): Stage {
  try {
    return parseStage(source);
  } catch {
    throw new UserError(`unknown source '${source}': choose one of base, mid, sft, rl, ` +
      'or nanochat:DIR for a checkpoint folder of nanochat\'s');
  }
}

/** The stage of a source without loading it: ours by name, a nanochat folder's from where it lies. */
export function sourceStage(source: string): Stage {
  const dir = nanochatFolder(source);
  return dir === undefined ? ourStage(source) : locateNanochat(dir).stage;
}

/**
 * bf16 weight storage is the CPU backends' (a GPU backend keeps f32 weights on its device); the default picks it only
 * on native, whose matmul reads bf16 directly (ref widens a whole weight per product: the oracle, not a runtime).
 */
function checkBf16Storage(): void {
  const be = getBackend();
  if (!(be instanceof HostBackend)) {
    throw new UserError(`--dtype bf16 keeps weights in host memory for the CPU backends; the '${be.name}' backend ` +
      'keeps f32 weights on its device: leave --dtype out or use --backend native');
  }
}

export function loadModelAndTokenizer(choice: ModelChoice): LoadedCheckpoint {
  const dir = nanochatFolder(choice.source);
  if (dir !== undefined) {
    // weights stored in bf16 in the file stay bf16 unless --dtype f32 asks otherwise, converted matrix by matrix
    const files0 = locateNanochat(dir, { step: choice.step });
    if (choice.dtype === 'bf16') checkBf16Storage();
    const bf16 = choice.dtype === 'bf16' || (choice.dtype === undefined && getBackend().name === 'native' && storedInBf16(files0.model));
    const { model, tok, meta, files } = loadNanochat(dir, { step: choice.step, bf16 });
    const tag = basename(files.dir);
    const modelId = `nanochat:${tag}@${files.step}`;
    if (bf16) inferInBf16(model);
    return { model, meta, dir: files.dir, step: files.step, tag, stage: files.stage, tok, modelId };
  }
  const stage = ourStage(choice.source);
  if (choice.dtype === 'bf16') checkBf16Storage();
  const loaded = loadModel(stage, { tag: choice.tag, step: choice.step });
  const tok = loadTokenizer();
  checkTokenizerMatches(tok, loaded.meta);
  if (choice.dtype === 'bf16') inferInBf16(loaded.model);
  return { ...loaded, stage, tok, modelId: `${stage}/${loaded.tag}@${loaded.step}` };
}
