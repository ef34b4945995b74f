// Checkpoints: <base>/<stage>_checkpoints/<tag>/{model_<step>.safetensors, optim_<step>.safetensors, meta_<step>.json}.
//
// Weights use the PyTorch names of nanochat's GPT (transformer.wte.weight,
// transformer.h.{i}.attn.c_q.weight, ..., lm_head.weight) in [out, in] layout, readable by any
// safetensors library. Each file is written to a temp name and renamed; meta is written last, so a
// checkpoint counts only once all its files are complete: a kill at any moment leaves the previous checkpoint intact.
// A save that fails (a full disk: one line saying how full, see disk-full.ts) removes what it wrote.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { baseDir } from '../common/paths.js';
import { UserError } from '../common/errors.js';
import { GPT, type GPTConfig } from '../model/gpt.js';
import type { Buf } from '../tensor/backend.js';
import { getBackend } from '../tensor/backends.js';
import { encodeSafetensors, loadSafetensors, type NamedTensor } from './safetensors.js';
import { removeDeadTempFiles, tempName, writeFileAtomic } from '../common/atomic.js';
import { diskFullMessage, isDiskFull } from './disk-full.js';

export type Stage = 'base' | 'mid' | 'sft' | 'rl';

/** What a checkpoint keeps of an optimizer (train/optimizer.ts): its step and named state buffers. */
export interface OptimizerState {
  step: number;
  lrMultiplier: number;
  stateBuffers(): Map<string, Buf>;
  loadStateBuffers(bufs: Map<string, Float32Array>, step: number): void;
}

const STAGE_DIRS: Record<Stage, string> = {
  base: 'base_checkpoints',
  mid: 'mid_checkpoints',
  sft: 'chatsft_checkpoints',
  rl: 'chatrl_checkpoints',
};
/** the command that makes each stage's checkpoints, for error messages */
const STAGE_COMMAND: Record<Stage, string> = { base: 'base-train', mid: 'mid-train', sft: 'chat-sft', rl: 'chat-rl' };

export function parseStage(s: string): Stage {
  if (s in STAGE_DIRS) return s as Stage;
  throw new UserError(`unknown source '${s}': choose one of base, mid, sft, rl`);
}

export interface CheckpointMeta {
  format: 1;
  stage: Stage;
  step: number;
  modelConfig: GPTConfig;
  /** identity of the tokenizer the model was trained with (vocab size and a content hash) */
  tokenizer: { vocabSize: number; hash: string };
  /** training arguments as given, for the report and for resuming */
  args: Record<string, unknown>;
  /** dataloader position (stage-specific), to resume exactly */
  loaderState?: unknown;
  /** latest metrics: loss, val bpb, ... */
  metrics?: Record<string, number>;
  /** anything else a stage wants to carry (e.g. RNG state) */
  extra?: Record<string, unknown>;
}

function stageDir(stage: Stage): string {
  return join(baseDir(), STAGE_DIRS[stage]);
}

export function checkpointDir(stage: Stage, tag: string): string {
  return join(stageDir(stage), tag);
}

const files = (dir: string, step: number) => ({
  model: join(dir, `model_${String(step).padStart(6, '0')}.safetensors`),
  optim: join(dir, `optim_${String(step).padStart(6, '0')}.safetensors`),
  meta: join(dir, `meta_${String(step).padStart(6, '0')}.json`),
});

/** Writes one whole file under its final name or throws (common/atomic.ts's writer; tests pass one that fails). */
export type FileWriter = (path: string, parts: (Uint8Array | string)[]) => void;

/**
 * Save optimizer state, weights, then meta (last: it marks the checkpoint complete). If a write fails, this
 * step's files and the failed write's temp file are removed, so a half-saved step never lingers or fills
 * the disk; a full disk is a UserError naming the file, the bytes it needed and the bytes free.
 */
export async function saveCheckpoint(
  dir: string, model: GPT, meta: CheckpointMeta, optimizer?: OptimizerState, write: FileWriter = writeFileAtomic,
): Promise<void> {
  // host copies first (a device backend reads its buffers back; for ref and native these are plain copies)
  const be = getBackend();
  const state = new Map<string, NamedTensor>();
  for (const [name, buf] of optimizer?.stateBuffers() ?? []) state.set(name, { shape: [buf.length], data: await be.read(buf) });
  const weights = new Map<string, NamedTensor>();
  for (const [name, t] of model.params) weights.set(name, { shape: t.shape, data: await t.read() });
  mkdirSync(dir, { recursive: true });
  removeDeadTempFiles(dir);
  const f = files(dir, meta.step);
  const plan: { path: string; parts: (Uint8Array | string)[] }[] = [];
  if (optimizer) {
    const stateMeta = { step: String(optimizer.step), lrMultiplier: String(optimizer.lrMultiplier) };
    plan.push({ path: f.optim, parts: encodeSafetensors(state, stateMeta) });
  }
  const weightsMeta = { format: 'nanochat-ts', step: String(meta.step), config: JSON.stringify(meta.modelConfig) };
  plan.push({ path: f.model, parts: encodeSafetensors(weights, weightsMeta) });
  plan.push({ path: f.meta, parts: [JSON.stringify(meta, null, 2) + '\n'] });
  const bytes = (parts: (Uint8Array | string)[]): number =>
    parts.reduce((n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength), 0);
  const written: string[] = [];
  for (const { path, parts } of plan) {
    try {
      write(path, parts);
    } catch (e) {
      rmSync(tempName(path), { force: true });
      // files of this step written before the failure (and the step's meta, once they replaced an older
      // save of the same step) go too: none of this step counts, and its space is free again
      for (const p of written.length ? [...written, f.meta] : []) rmSync(p, { force: true });
      if (!isDiskFull(e)) throw e;
      throw new UserError(diskFullMessage({
        step: meta.step, file: path, fileBytes: bytes(parts), checkpointBytes: plan.reduce((n, x) => n + bytes(x.parts), 0),
        dir, previousStep: listSteps(dir).filter((s) => s < meta.step).at(-1),
      }));
    }
    written.push(path);
  }
}

/** Steps with a complete checkpoint (meta and model present), ascending. */
export function listSteps(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const steps: number[] = [];
  for (const n of readdirSync(dir)) {
    const m = /^meta_(\d+)\.json$/.exec(n);
    if (m && existsSync(files(dir, Number(m[1])).model)) steps.push(Number(m[1]));
  }
  return steps.sort((a, b) => a - b);
}

/** The default model tag of a stage: the deepest `d<N>` tag present (as the reference picks the largest model). */
export function defaultTag(stage: Stage): string {
  const root = stageDir(stage);
  const tags = existsSync(root) ? readdirSync(root).filter((t) => listSteps(join(root, t)).length > 0) : [];
  if (tags.length === 0) throw new UserError(`no ${stage} checkpoint in ${root}: run \`nanochat ${STAGE_COMMAND[stage]}\` first`);
  const depth = (t: string) => Number(/^d(\d+)$/.exec(t)?.[1] ?? -1);
  return tags.sort((a, b) => depth(b) - depth(a) || a.localeCompare(b))[0];
}

export function readMeta(dir: string, step: number): CheckpointMeta {
  const path = files(dir, step).meta;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CheckpointMeta;
  } catch (e) {
    throw new UserError(`cannot read checkpoint metadata ${path} (${(e as Error).message.split('\n')[0]}): the file is missing or corrupt; resume from an earlier step or retrain`);
  }
}

/** Copy checkpoint weights into a model; shapes must match exactly. */
export function loadWeights(model: GPT, path: string): void {
  let tensors: Map<string, NamedTensor>;
  try {
    tensors = loadSafetensors(path).tensors;
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  for (const [name, t] of model.params) {
    const src = tensors.get(name);
    if (!src) throw new UserError(`${path} has no tensor '${name}': it is from a different model shape`);
    if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
      throw new UserError(`${path}: '${name}' is [${src.shape}] but this model needs [${t.shape}]: the checkpoint is from a different model shape (check --depth / --head-dim / vocab)`);
    }
    getBackend().write(t.data, src.data);
  }
}

export function loadOptimizerState(optimizer: OptimizerState, dir: string, step: number): void {
  const path = files(dir, step).optim;
  if (!existsSync(path)) throw new UserError(`checkpoint step ${step} in ${dir} has no optimizer state (${path}); it cannot be resumed`);
  let st;
  try {
    st = loadSafetensors(path);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const bufs = new Map<string, Float32Array>();
  for (const [n, t] of st.tensors) bufs.set(n, t.data);
  try {
    optimizer.loadStateBuffers(bufs, Number(st.metadata.step ?? step));
  } catch (e) {
    throw new UserError(`${path}: ${(e as Error).message}: it belongs to a different model or optimizer setup`);
  }
}

export interface LoadedModel {
  model: GPT;
  meta: CheckpointMeta;
  dir: string;
  step: number;
  tag: string;
}

/** Load a stage's model: tag defaults to the deepest, step to the latest. */
export function loadModel(stage: Stage, opts: { tag?: string; step?: number } = {}): LoadedModel {
  const tag = opts.tag ?? defaultTag(stage);
  const dir = checkpointDir(stage, tag);
  const steps = listSteps(dir);
  if (steps.length === 0) throw new UserError(`no ${stage} checkpoint for tag ${tag} in ${dir}: run \`nanochat ${STAGE_COMMAND[stage]}\` first`);
  const step = opts.step ?? steps[steps.length - 1];
  if (!steps.includes(step)) throw new UserError(`no ${stage} checkpoint at step ${step} for tag ${tag}; available steps: ${steps.join(', ')}`);
  const meta = readMeta(dir, step);
  const model = new GPT(meta.modelConfig);
  loadWeights(model, files(dir, step).model);
  return { model, meta, dir, step, tag };
}

export { files as checkpointFiles };
