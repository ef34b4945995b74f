// One of our checkpoints written in nanochat's layout, so its Python scripts load it (NANOCHAT_BASE_DIR=<out>
// python -m scripts.chat_cli -i sft): under the output folder, as nanochat keeps a run,
//   <stage folder>/<tag>/model_<step:06d>.pt   torch.save-compatible state dict, every tensor float32
//   <stage folder>/<tag>/meta_<step:06d>.json  {"step", "model_config": {sequence_len, vocab_size, ...}, ...}
//   tokenizer/tokenizer.pkl, tokenizer/token_bytes.pt
// The weights are read from our safetensors file as they are (no model is built). The embedding and head get
// vocab_size rows, the shape of nanochat's classic GPT; `padVocab` keeps our rows padded to a multiple of 64,
// the shape of the nanochat versions that pad. Every file is written to a temp name and renamed, meta last.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { UserError } from '../common/errors.js';
import { padVocab, type GPTConfig } from '../model/gpt.js';
import { loadTokenizer } from '../tokenizer/io.js';
import { checkpointDir, checkpointFiles, defaultTag, listSteps, readMeta, type Stage } from './checkpoint.js';
import { NANOCHAT_STAGE_FOLDERS } from './nanochat-import.js';
import { NANOCHAT_TOKEN_BYTES_FILE, NANOCHAT_TOKENIZER_FILE, tokenBytesPt, tokenizerPkl } from './nanochat-tokenizer.js';
import { loadSafetensors } from './safetensors.js';
import { checkTokenizerMatches } from './tokenizer-identity.js';
import { torchSaveParts, type TorchOut } from './torch-pt.js';

export interface ExportOptions {
  /** write the embedding and head with our padded rows instead of vocab_size rows */
  padVocab?: boolean;
  /** replace a different tokenizer.pkl already in <out>/tokenizer */
  force?: boolean;
  /** ZIP64 records for every entry (the tests' way to check them on a small file) */
  zip64?: boolean;
}

export interface ExportResult {
  stage: Stage;
  tag: string;
  step: number;
  /** every file written, in the order written */
  files: string[];
}

/** The tensor names of nanochat's GPT in the order its state_dict lists them, with their shapes. */
function nanochatParams(c: GPTConfig, rows: number): [string, number[]][] {
  const C = c.nEmbd, D = c.nEmbd / c.nHead;
  const out: [string, number[]][] = [['transformer.wte.weight', [rows, C]]];
  for (let i = 0; i < c.nLayer; i++) {
    const h = `transformer.h.${i}`;
    out.push([`${h}.attn.c_q.weight`, [c.nHead * D, C]], [`${h}.attn.c_k.weight`, [c.nKvHead * D, C]],
      [`${h}.attn.c_v.weight`, [c.nKvHead * D, C]], [`${h}.attn.c_proj.weight`, [C, c.nHead * D]],
      [`${h}.mlp.c_fc.weight`, [4 * C, C]], [`${h}.mlp.c_proj.weight`, [C, 4 * C]]);
  }
  out.push(['lm_head.weight', [rows, C]]);
  return out;
}

/** Write our checkpoint (tag: default the deepest; step: default the latest) in nanochat's layout under `outDir`. */
export function exportToNanochat(
  choice: { stage: Stage; tag?: string; step?: number }, outDir: string, opts: ExportOptions = {},
): ExportResult {
  const { stage } = choice;
  const tag = choice.tag ?? defaultTag(stage);
  const dir = checkpointDir(stage, tag);
  const steps = listSteps(dir);
  if (steps.length === 0) throw new UserError(`no ${stage} checkpoint for tag ${tag} in ${dir}`);
  const step = choice.step ?? steps[steps.length - 1];
  if (!steps.includes(step)) {
    throw new UserError(`no ${stage} checkpoint at step ${step} for tag ${tag}; available steps: ${steps.join(', ')}`);
  }
  const meta = readMeta(dir, step);
  const tok = loadTokenizer();
  checkTokenizerMatches(tok, meta);
  const modelPath = checkpointFiles(dir, step).model;
  let tensors;
  try {
    tensors = loadSafetensors(modelPath).tensors;
  } catch (e) {
    throw new UserError((e as Error).message);
  }

  const c = meta.modelConfig;
  const rows = opts.padVocab ? padVocab(c.vocabSize) : c.vocabSize;
  const stateDict = new Map<string, TorchOut>();
  for (const [name, shape] of nanochatParams(c, rows)) {
    const t = tensors.get(name);
    const vocabRows = name === 'transformer.wte.weight' || name === 'lm_head.weight';
    const stored = vocabRows ? [padVocab(c.vocabSize), shape[1]] : shape;
    if (!t || t.shape.length !== 2 || t.shape[0] !== stored[0] || t.shape[1] !== stored[1]) {
      throw new UserError(`${modelPath}: '${name}' is ${t ? `[${t.shape}]` : 'missing'}, its meta's model config needs ` +
        `[${stored}]: the checkpoint is damaged`);
    }
    stateDict.set(name, { dtype: 'float32', shape, data: t.data.subarray(0, shape[0] * shape[1]) });
  }

  const out = resolve(outDir);
  const ckDir = join(out, NANOCHAT_STAGE_FOLDERS[stage], tag);
  const tokDir = join(out, 'tokenizer');
  const pkl = tokenizerPkl(tok);
  const pklPath = join(tokDir, NANOCHAT_TOKENIZER_FILE);
  if (!opts.force && existsSync(pklPath) && !Buffer.from(pkl).equals(readFileSync(pklPath))) {
    throw new UserError(`${pklPath} already holds a different tokenizer, which nanochat's checkpoints there may need: ` +
      'export into another folder, or pass --force to replace it');
  }
  const s6 = String(step).padStart(6, '0');
  const modelOut = join(ckDir, `model_${s6}.pt`), metaOut = join(ckDir, `meta_${s6}.json`);
  const nanoMeta = {
    ...(meta.metrics ?? {}),
    step,
    model_config: {
      sequence_len: c.sequenceLen, vocab_size: c.vocabSize, n_layer: c.nLayer, n_head: c.nHead, n_kv_head: c.nKvHead,
      n_embd: c.nEmbd,
    },
    user_config: meta.args,
    nanochat_ts: { stage, tag, step, tokenizer: meta.tokenizer },
  };
  mkdirSync(ckDir, { recursive: true });
  mkdirSync(tokDir, { recursive: true });
  const files: string[] = [];
  const write = (path: string, parts: (Uint8Array | string)[]) => {
    writeFileAtomic(path, parts);
    files.push(path);
  };
  write(pklPath, [pkl]);
  write(join(tokDir, NANOCHAT_TOKEN_BYTES_FILE), tokenBytesPt(tok));
  write(modelOut, torchSaveParts(`model_${s6}`, stateDict, { zip64: opts.zip64 }));
  write(metaOut, [JSON.stringify(nanoMeta, null, 2) + '\n']);
  return { stage, tag, step, files };
}
