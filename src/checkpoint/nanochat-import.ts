// A checkpoint folder written by nanochat itself (Python), read into our GPT and tokenizer:
//   model_<step:06d>.pt   torch.save of the model's state dict (keys may carry torch.compile's `_orig_mod.`)
//   meta_<step:06d>.json  {"model_config": {sequence_len, vocab_size, n_layer, n_head, n_kv_head, n_embd}, "step", ...}
//   tokenizer.pkl, token_bytes.pt   in the folder itself (as the released models ship), in <folder>/tokenizer, or
//                                   in nanochat's layout <base>/<stage>_checkpoints/<tag> -> <base>/tokenizer
// (optim_<step>_rank<r>.pt is ignored). nanochat's "classic" GPT is ours, under the same tensor names; every key
// is checked for presence and shape, and keys our GPT lacks (a later nanochat architecture) are refused rather
// than dropped. The embedding and head may have vocab_size rows (nanochat before it padded the vocabulary) or
// vocab_size rounded up to 64 (after); unpadded ones get zero rows up to our padded size.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../common/errors.js';
import { GPT, type GPTConfig } from '../model/gpt.js';
import { getBackend } from '../tensor/backends.js';
import { keepsF32, toBf16Weight } from '../tensor/bf16-weights.js';
import type { BpeTokenizer } from '../tokenizer/bpe.js';
import type { CheckpointMeta, Stage } from './checkpoint.js';
import { NANOCHAT_TOKENIZER_FILE, readNanochatTokenizer } from './nanochat-tokenizer.js';
import { tokenizerIdentity } from './tokenizer-identity.js';
import { TorchFile, type TorchTensor } from './torch-pt.js';

/** nanochat's checkpoint folder of each stage, under its $NANOCHAT_BASE_DIR (the same names as ours) */
export const NANOCHAT_STAGE_FOLDERS: Record<Stage, string> = {
  base: 'base_checkpoints', mid: 'mid_checkpoints', sft: 'chatsft_checkpoints', rl: 'chatrl_checkpoints',
};
const STAGE_OF_FOLDER = Object.fromEntries(Object.entries(NANOCHAT_STAGE_FOLDERS).map(([s, f]) => [f, s as Stage]));

const COMPILE_PREFIX = '_orig_mod.';
const CONFIG_KEYS = ['sequence_len', 'vocab_size', 'n_layer', 'n_head', 'n_kv_head', 'n_embd'] as const;

export interface NanochatFiles {
  dir: string;
  step: number;
  model: string;
  meta: string;
  tokenizerDir: string;
  /** from the folder's parent (chatsft_checkpoints -> sft); a folder outside nanochat's layout counts as sft */
  stage: Stage;
  /** the folder's name (nanochat's model tag, e.g. d20) */
  tag: string;
}

const pad6 = (step: number) => String(step).padStart(6, '0');

/** The files of step `step` (default: the latest) of a nanochat checkpoint folder. */
export function locateNanochat(dirIn: string, opts: { step?: number; tokenizerDir?: string } = {}): NanochatFiles {
  const dir = resolve(dirIn);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new UserError(`${dir} is not a folder: give a nanochat checkpoint folder (model_<step>.pt, meta_<step>.json)`);
  }
  // step -> its digits as written (nanochat pads to 6: model_000650.pt)
  const digitsOf = new Map<number, string>();
  for (const n of names) {
    const m = /^model_(\d+)\.pt$/.exec(n);
    if (m) digitsOf.set(Number(m[1]), m[1]);
  }
  const steps = [...digitsOf.keys()].sort((a, b) => a - b);
  if (steps.length === 0) throw new UserError(`${dir} has no model_<step>.pt: it is not a nanochat checkpoint folder`);
  const step = opts.step ?? steps[steps.length - 1];
  const digits = digitsOf.get(step);
  if (digits === undefined) throw new UserError(`${dir} has no model_${pad6(step)}.pt; its steps: ${steps.join(', ')}`);
  const model = join(dir, `model_${digits}.pt`), meta = join(dir, `meta_${digits}.json`);
  if (!existsSync(meta)) {
    throw new UserError(`${dir} has model_${digits}.pt but no meta_${digits}.json, which holds its model_config`);
  }
  const candidates = opts.tokenizerDir
    ? [resolve(opts.tokenizerDir)]
    : [dir, join(dir, 'tokenizer'), resolve(dir, '..', '..', 'tokenizer')];
  const tokenizerDir = candidates.find((d) => existsSync(join(d, NANOCHAT_TOKENIZER_FILE)));
  if (!tokenizerDir) {
    throw new UserError(`no nanochat ${NANOCHAT_TOKENIZER_FILE} for ${dir}: looked in ${candidates.join(', ')}; ` +
      'put tokenizer.pkl and token_bytes.pt beside the model, or in <base>/tokenizer as nanochat keeps them');
  }
  const stage = STAGE_OF_FOLDER[basename(dirname(dir))] ?? 'sft';
  return { dir, step, model, meta, tokenizerDir, stage, tag: basename(dir) };
}

/** meta_<step>.json: nanochat's model_config as our GPTConfig, and the rest of the file. */
export function readNanochatMeta(path: string): { config: GPTConfig; meta: Record<string, unknown> } {
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`cannot read ${path} (${(e as Error).message.split('\n')[0]}): it is missing or not JSON`);
  }
  const mc = meta?.model_config as Record<string, unknown> | undefined;
  if (typeof mc !== 'object' || mc === null) throw new UserError(`${path} has no model_config: it is no nanochat meta file`);
  const unknown = Object.keys(mc).filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new UserError(`${path}: model_config has ${unknown.join(', ')}, which nanochat's classic GPT (ours) does not: ` +
      'the checkpoint is from a later nanochat architecture that we do not run');
  }
  const v: Record<string, number> = {};
  for (const k of CONFIG_KEYS) {
    const x = mc[k];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1) {
      throw new UserError(`${path}: model_config.${k} is ${JSON.stringify(x)}, not a positive integer`);
    }
    v[k] = x;
  }
  if (v.n_embd % v.n_head || (v.n_embd / v.n_head) % 2) {
    throw new UserError(`${path}: n_embd ${v.n_embd} does not split into ${v.n_head} heads of an even size`);
  }
  if (v.n_head % v.n_kv_head) throw new UserError(`${path}: n_kv_head ${v.n_kv_head} does not divide n_head ${v.n_head}`);
  const config: GPTConfig = {
    vocabSize: v.vocab_size, nLayer: v.n_layer, nHead: v.n_head, nKvHead: v.n_kv_head, nEmbd: v.n_embd,
    sequenceLen: v.sequence_len,
  };
  return { config, meta };
}

const describe = (c: GPTConfig) =>
  `vocab_size=${c.vocabSize}, n_layer=${c.nLayer}, n_head=${c.nHead}, n_kv_head=${c.nKvHead}, n_embd=${c.nEmbd}`;

/** The state dict's tensors under their names without torch.compile's prefix. */
function stateDictOf(f: TorchFile): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  for (const [k, t] of f.stateDict()) {
    const name = k.startsWith(COMPILE_PREFIX) ? k.slice(COMPILE_PREFIX.length) : k;
    if (out.has(name)) throw new UserError(`${f.path} has '${name}' twice (with and without ${COMPILE_PREFIX})`);
    out.set(name, t);
  }
  return out;
}

/**
 * A GPT of `config` with the weights of nanochat's model file, every key and shape checked. With `bf16`, each
 * matrix is stored in bf16 as soon as it is read (tensor/bf16-weights.ts), so a d32 model (1.9B parameters)
 * never holds more than one matrix in f32 on its way to 3.8 GB.
 */
export function readNanochatWeights(path: string, config: GPTConfig, opts: { bf16?: boolean } = {}): GPT {
  const f = new TorchFile(path);
  try {
    const tensors = stateDictOf(f);
    const model = new GPT(config);
    const extra = [...tensors.keys()].filter((k) => !model.params.has(k));
    if (extra.length) {
      const shown = extra.slice(0, 5).join(', ') + (extra.length > 5 ? `, ... ${extra.length} in all` : '');
      throw new UserError(`${path} has tensors nanochat's classic GPT does not (${shown}): ` +
        'it is from another model or a later nanochat architecture that we do not run');
    }
    // every key and shape first, so a bad file fails before gigabytes are read
    for (const [name, param] of model.params) {
      const t = tensors.get(name);
      if (!t) {
        throw new UserError(`${path} has no tensor '${name}', which nanochat's GPT with ${describe(config)} has: ` +
          'the file is incomplete or from another model');
      }
      const [rows, cols] = param.shape;
      // the embedding and head may have vocab_size rows or our padded count
      const vocabRows = name === 'transformer.wte.weight' || name === 'lm_head.weight';
      const rowsOk = t.shape[0] === rows || (vocabRows && t.shape[0] === config.vocabSize);
      if (t.shape.length !== 2 || t.shape[1] !== cols || !rowsOk) {
        const want = vocabRows && rows !== config.vocabSize
          ? `[${config.vocabSize}, ${cols}] or [${rows}, ${cols}]`
          : `[${rows}, ${cols}]`;
        throw new UserError(`${path}: '${name}' is [${t.shape.join(', ')}] but model_config (${describe(config)}) needs ` +
          `${want}: the weights and the meta file are from different models`);
      }
    }
    for (const [name, param] of model.params) {
      let data = f.readFloat32(name, tensors.get(name)!);
      if (data.length < param.size) {
        const padded = new Float32Array(param.size); // the rows past vocab_size are zero (never a real token)
        padded.set(data);
        data = padded;
      }
      getBackend().write(param.data, data);
      if (opts.bf16 && !keepsF32(name)) toBf16Weight(param);
    }
    return model;
  } finally {
    f.close();
  }
}

export interface NanochatLoaded {
  model: GPT;
  tok: BpeTokenizer;
  /** our checkpoint meta for it (stage, step, config, tokenizer identity, nanochat's fields as args and metrics) */
  meta: CheckpointMeta;
  files: NanochatFiles;
}

/**
 * Whether a nanochat model file keeps its block matrices in bf16 (then bf16 is the default weight storage for
 * inference: converting to f32 would double the memory for no better numbers).
 */
export function storedInBf16(path: string): boolean {
  const f = new TorchFile(path);
  try {
    const matrices = [...stateDictOf(f)].filter(([name]) => name.startsWith('transformer.h.'));
    return matrices.length > 0 && matrices.every(([, t]) => t.dtype === 'bfloat16');
  } finally {
    f.close();
  }
}

/** Read a nanochat checkpoint folder: model, tokenizer (its vocabulary must be model_config's) and meta. */
export function loadNanochat(
  dir: string, opts: { step?: number; tokenizerDir?: string; bf16?: boolean } = {},
): NanochatLoaded {
  const files = locateNanochat(dir, opts);
  const { config, meta: nanoMeta } = readNanochatMeta(files.meta);
  const tok = readNanochatTokenizer(files.tokenizerDir);
  if (tok.vocabSize !== config.vocabSize) {
    throw new UserError(`the tokenizer in ${files.tokenizerDir} has ${tok.vocabSize} ids but ${files.meta} says ` +
      `vocab_size ${config.vocabSize}: they are from different runs (nanochat import takes the right one with --tokenizer)`);
  }
  const model = readNanochatWeights(files.model, config, { bf16: opts.bf16 });
  // nanochat's meta keeps its metrics at the top level (val_bpb, mmlu_acc, ...)
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(nanoMeta)) if (k !== 'step' && typeof v === 'number') metrics[k] = v;
  const userConfig = nanoMeta.user_config;
  const meta: CheckpointMeta = {
    format: 1,
    stage: files.stage,
    step: files.step,
    modelConfig: config,
    tokenizer: tokenizerIdentity(tok),
    args: typeof userConfig === 'object' && userConfig !== null ? (userConfig as Record<string, unknown>) : {},
    metrics,
    extra: { importedFrom: { format: 'nanochat', dir: files.dir, step: files.step, model: basename(files.model) } },
  };
  return { model, tok, meta, files };
}
