// The GPT of SPEC section 2 ("classic" nanochat):
//   token embedding (untied) -> RMSNorm -> L x [ x += attn(norm(x)); x += mlp(norm(x)) ] -> RMSNorm -> lm_head
//   attention: bias-free c_q, c_k, c_v, rotary (base 10000), QK-norm, causal softmax, c_proj; grouped-query capable
//   mlp: c_fc C -> 4C, relu^2, c_proj 4C -> C; logits soft-capped 15 tanh(x/15); no biases; no learnable norm weights.
// Weights are stored [out_features, in_features] under the PyTorch names, so checkpoints interoperate.

import { Tensor, activation, arena, noGrad } from '../tensor/tensor.js';
import * as op from '../tensor/ops.js';
import { getBackend } from '../tensor/backends.js';
import { gaussianRng } from '../tensor/random.js';
import type { ParamGroup } from '../tensor/param-groups.js';

export interface GPTConfig {
  /** real vocabulary (bytes + merges + specials); the embedding and head are padded to a multiple of 64 */
  vocabSize: number;
  nLayer: number;
  nHead: number;
  nKvHead: number;
  nEmbd: number;
  /** longest sequence the rotary tables cover (training context) */
  sequenceLen: number;
}

export const LOGIT_SOFTCAP = 15;
export const padVocab = (v: number): number => Math.ceil(v / 64) * 64;

/** Sizes from the one dial: model_dim = 64 * depth, heads of headDim (128 by default, smaller for tiny models). */
export function configFromDepth(depth: number, vocabSize: number, sequenceLen: number, opts: { headDim?: number; nKvHead?: number } = {}): GPTConfig {
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`--depth must be a positive integer, got ${depth}`);
  const nEmbd = 64 * depth;
  const headDim = opts.headDim ?? 128;
  const nHead = Math.max(1, Math.ceil(nEmbd / headDim));
  if (nEmbd % nHead) throw new Error(`model_dim ${nEmbd} does not split into ${nHead} heads; pick a --head-dim that divides ${nEmbd}`);
  const nKvHead = opts.nKvHead ?? nHead;
  if (nHead % nKvHead) throw new Error(`--n-kv-head ${nKvHead} must divide the number of heads ${nHead}`);
  return { vocabSize, nLayer: depth, nHead, nKvHead, nEmbd, sequenceLen };
}

export { gaussianRng };

export interface KVCache {
  /** per layer: [B, maxLen, Hkv, D] */
  k: Float32Array[];
  v: Float32Array[];
  batch: number;
  maxLen: number;
  /** positions filled so far */
  pos: number;
}

export class GPT {
  readonly params = new Map<string, Tensor>();
  readonly headDim: number;
  readonly vocabPadded: number;
  private rot: { cos: Float32Array; sin: Float32Array };

  constructor(readonly config: GPTConfig) {
    const { vocabSize, nLayer, nHead, nKvHead, nEmbd } = config;
    this.headDim = nEmbd / nHead;
    if (!Number.isInteger(this.headDim) || this.headDim % 2) throw new Error(`head dim ${this.headDim} (model_dim ${nEmbd} / ${nHead} heads) must be an even integer`);
    this.vocabPadded = padVocab(vocabSize);
    const C = nEmbd, D = this.headDim;
    this.add('transformer.wte.weight', [this.vocabPadded, C]);
    for (let i = 0; i < nLayer; i++) {
      const p = `transformer.h.${i}`;
      this.add(`${p}.attn.c_q.weight`, [nHead * D, C]);
      this.add(`${p}.attn.c_k.weight`, [nKvHead * D, C]);
      this.add(`${p}.attn.c_v.weight`, [nKvHead * D, C]);
      this.add(`${p}.attn.c_proj.weight`, [C, nHead * D]);
      this.add(`${p}.mlp.c_fc.weight`, [4 * C, C]);
      this.add(`${p}.mlp.c_proj.weight`, [C, 4 * C]);
    }
    this.add('lm_head.weight', [this.vocabPadded, C]);
    // rotary tables with headroom beyond the training context (10x, like the reference) for generation
    this.rot = op.rotaryTables(config.sequenceLen * 10, D);
  }

  private add(name: string, shape: number[]): void {
    this.params.set(name, Tensor.parameter(shape));
  }

  param(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`GPT has no parameter '${name}'`);
    return t;
  }

  /**
   * Initialize: linears N(0, std) with std = 1/sqrt(fan_in) * min(1, sqrt(fan_out / fan_in)),
   * embedding N(0, 1), and zeros for lm_head and both output projections (so every block starts as
   * the identity and the first logits are uniform).
   */
  initWeights(seed: number): void {
    const randn = gaussianRng(seed);
    for (const [name, t] of this.params) {
      const d = t.data;
      if (name === 'lm_head.weight' || name.endsWith('attn.c_proj.weight') || name.endsWith('mlp.c_proj.weight')) d.fill(0);
      else if (name === 'transformer.wte.weight') for (let i = 0; i < d.length; i++) d[i] = randn();
      else {
        const [fanOut, fanIn] = t.shape;
        const std = (1 / Math.sqrt(fanIn)) * Math.min(1, Math.sqrt(fanOut / fanIn));
        for (let i = 0; i < d.length; i++) d[i] = std * randn();
      }
    }
  }

  /** 2*V*C + 12*L*C^2 when n_kv_head = n_head (V padded). */
  numParams(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.size;
    return n;
  }

  /** Training FLOPs per token: 6 * (params - embedding) + 12 * L * H * D * T (attention scores and values). */
  flopsPerToken(): number {
    const { nLayer, nHead, sequenceLen } = this.config;
    const emb = this.param('transformer.wte.weight').size;
    return 6 * (this.numParams() - emb) + 12 * nLayer * nHead * this.headDim * sequenceLen;
  }

  /**
   * Optimizer groups (SPEC 3): AdamW for the embedding (0.2) and head (0.004), scaled by (C/768)^-0.5;
   * Muon (0.02) for every matrix in the blocks.
   */
  paramGroups(lr: { embedding: number; unembedding: number; matrix: number }): ParamGroup[] {
    const scaleLr = Math.pow(this.config.nEmbd / 768, -0.5);
    const named = (pred: (n: string) => boolean) => [...this.params].filter(([n]) => pred(n)).map(([name, tensor]) => ({ name, tensor }));
    const adam = { betas: [0.8, 0.95] as [number, number], eps: 1e-10, weightDecay: 0 };
    return [
      { kind: 'adamw', params: named((n) => n === 'transformer.wte.weight'), lr: lr.embedding * scaleLr, ...adam },
      { kind: 'adamw', params: named((n) => n === 'lm_head.weight'), lr: lr.unembedding * scaleLr, ...adam },
      { kind: 'muon', params: named((n) => n.startsWith('transformer.h.')), lr: lr.matrix, momentumStart: 0.85, momentumEnd: 0.95, momentumWarmupSteps: 300, nsSteps: 5 },
    ];
  }

  /**
   * Forward over ids [B, T]. Returns soft-capped logits [B*T, Vpad] and, with targets (-1 = ignore),
   * the cross-entropy ('mean' scalar or 'none' per token). Records the graph unless under noGrad.
   */
  forward(ids: Int32Array, B: number, T: number, targets?: Int32Array, reduction: 'mean' | 'sum' | 'none' = 'mean'): { logits: Tensor; loss?: Tensor } {
    if (ids.length !== B * T) throw new Error(`forward: ${ids.length} ids for B=${B} x T=${T}`);
    if (T > this.rot.cos.length / (this.headDim / 2)) throw new Error(`forward: sequence length ${T} exceeds the model's rotary range`);
    const { nLayer, nHead, nKvHead } = this.config;
    const D = this.headDim;
    let x = op.rmsnorm(op.embedding(this.param('transformer.wte.weight'), ids, [B * T]));
    for (let i = 0; i < nLayer; i++) {
      const p = `transformer.h.${i}`;
      const h = op.rmsnorm(x);
      let q = op.reshape(op.linear(h, this.param(`${p}.attn.c_q.weight`)), [B, T, nHead, D]);
      let k = op.reshape(op.linear(h, this.param(`${p}.attn.c_k.weight`)), [B, T, nKvHead, D]);
      const v = op.reshape(op.linear(h, this.param(`${p}.attn.c_v.weight`)), [B, T, nKvHead, D]);
      q = op.rmsnorm(op.rope(q, this.rot.cos, this.rot.sin));
      k = op.rmsnorm(op.rope(k, this.rot.cos, this.rot.sin));
      const y = op.reshape(op.attention(q, k, v), [B * T, nHead * D]);
      x = this.blockTail(x, y, p);
    }
    const logits = op.softcap(op.linear(op.rmsnorm(x), this.param('lm_head.weight')), LOGIT_SOFTCAP);
    if (!targets) return { logits };
    if (targets.length !== B * T) throw new Error(`forward: ${targets.length} targets for B=${B} x T=${T}`);
    return { logits, loss: op.crossEntropy(logits, targets, this.config.vocabSize, reduction) };
  }

  /** The rest of block `p` once attention has produced y: x += c_proj(y); x += mlp(norm(x)). */
  private blockTail(x: Tensor, y: Tensor, p: string): Tensor {
    x = op.add(x, op.linear(y, this.param(`${p}.attn.c_proj.weight`)));
    const m = op.reluSquared(op.linear(op.rmsnorm(x), this.param(`${p}.mlp.c_fc.weight`)));
    return op.add(x, op.linear(m, this.param(`${p}.mlp.c_proj.weight`)));
  }

  /** A KV cache for `batch` rows of up to maxLen positions. */
  newCache(batch: number, maxLen: number): KVCache {
    const { nLayer, nKvHead } = this.config;
    const per = batch * maxLen * nKvHead * this.headDim;
    return {
      k: Array.from({ length: nLayer }, () => new Float32Array(per)),
      v: Array.from({ length: nLayer }, () => new Float32Array(per)),
      batch, maxLen, pos: 0,
    };
  }

  /**
   * Inference step with a KV cache: ids [B, T] are the next T tokens of every row (prefill: the prompt;
   * decode: T = 1). Appends their keys and values to the cache and returns the logits of the last
   * position of each row, [B, Vpad] (a host copy). No graph is recorded, and the arena is reset
   * afterwards: call it between training steps, never while a step's activations are still needed.
   */
  forwardCached(ids: Int32Array, B: number, T: number, cache: KVCache): Float32Array {
    if (B !== cache.batch) throw new Error(`forwardCached: cache has ${cache.batch} rows, got ${B}`);
    if (cache.pos + T > cache.maxLen) throw new Error(`forwardCached: ${cache.pos} + ${T} positions exceed the cache length ${cache.maxLen}`);
    if (cache.pos + T > this.rot.cos.length / (this.headDim / 2)) throw new Error('forwardCached: position beyond the rotary tables');
    const be = getBackend();
    const { nLayer, nHead, nKvHead } = this.config;
    const D = this.headDim, pos0 = cache.pos, kvRow = nKvHead * D;
    const result = noGrad(() => {
      let x = op.rmsnorm(op.embedding(this.param('transformer.wte.weight'), ids, [B * T]));
      for (let i = 0; i < nLayer; i++) {
        const p = `transformer.h.${i}`;
        const h = op.rmsnorm(x);
        const q = op.rmsnorm(op.rope(op.reshape(op.linear(h, this.param(`${p}.attn.c_q.weight`)), [B, T, nHead, D]), this.rot.cos, this.rot.sin, pos0));
        const k = op.rmsnorm(op.rope(op.reshape(op.linear(h, this.param(`${p}.attn.c_k.weight`)), [B, T, nKvHead, D]), this.rot.cos, this.rot.sin, pos0));
        const v = op.linear(h, this.param(`${p}.attn.c_v.weight`));
        // append this step's keys and values at positions pos0 .. pos0+T-1 of every row
        for (let b = 0; b < B; b++) {
          const dst = (b * cache.maxLen + pos0) * kvRow, src = b * T * kvRow;
          cache.k[i].set(k.data.subarray(src, src + T * kvRow), dst);
          cache.v[i].set(v.data.subarray(src, src + T * kvRow), dst);
        }
        const y = activation([B * T, nHead * D]);
        const lse = arena.alloc(B * nHead * T);
        be.attentionForward(q.data, cache.k[i], cache.v[i], y.data, lse, {
          B, Tq: T, Tk: pos0 + T, H: nHead, Hkv: nKvHead, D, scale: 1 / Math.sqrt(D), kvBatchStride: cache.maxLen * kvRow,
        });
        x = this.blockTail(x, y, p);
      }
      // only the last position of each row needs logits
      const C = this.config.nEmbd;
      const last = activation([B, C]);
      for (let b = 0; b < B; b++) last.data.set(x.data.subarray(((b * T) + T - 1) * C, (b * T + T) * C), b * C);
      return op.softcap(op.linear(op.rmsnorm(last), this.param('lm_head.weight')), LOGIT_SOFTCAP).toArray();
    });
    cache.pos += T;
    arena.reset();
    return result;
  }

  /**
   * One decode step for several independent sequences (serving many requests at once): ids[b] is the
   * next token of sequence b, whose own batch-1 cache `caches[b]` may be at any position. The matmuls
   * run over all rows together, so the weights are read once per step instead of once per sequence
   * (decoding is memory-bound: `bench serve` measured 1.96x the total tokens/s with batch 8 as with
   * batch 1 on a d4 worker); rotary positions, the cache appends and attention are per row. Returns [B, Vpad] logits; equal to forwardCached(ids[b], 1, 1,
   * caches[b]) for each b, up to float rounding. The arena is reset afterwards, as forwardCached.
   */
  forwardDecode(ids: Int32Array, caches: readonly KVCache[]): Float32Array {
    const B = ids.length;
    if (caches.length !== B) throw new Error(`forwardDecode: ${B} tokens for ${caches.length} caches`);
    const maxPos = this.rot.cos.length / (this.headDim / 2);
    for (const c of caches) {
      if (c.batch !== 1) throw new Error(`forwardDecode: every cache holds one sequence, got one with ${c.batch} rows`);
      if (c.pos + 1 > c.maxLen) throw new Error(`forwardDecode: a cache at ${c.pos} of ${c.maxLen} positions is full`);
      if (c.pos + 1 > maxPos) throw new Error('forwardDecode: position beyond the rotary tables');
    }
    const be = getBackend();
    const { nLayer, nHead, nKvHead } = this.config;
    const D = this.headDim, qRow = nHead * D, kvRow = nKvHead * D;
    const result = noGrad(() => {
      let x = op.rmsnorm(op.embedding(this.param('transformer.wte.weight'), ids, [B]));
      for (let i = 0; i < nLayer; i++) {
        const p = `transformer.h.${i}`;
        const h = op.rmsnorm(x);
        const qLin = op.linear(h, this.param(`${p}.attn.c_q.weight`));
        const kLin = op.linear(h, this.param(`${p}.attn.c_k.weight`));
        const v = op.linear(h, this.param(`${p}.attn.c_v.weight`));
        // rotary at each row's own position, then QK-norm over the whole batch
        const qRot = activation([B, 1, nHead, D]), kRot = activation([B, 1, nKvHead, D]);
        for (let b = 0; b < B; b++) {
          const pos = caches[b].pos;
          be.rope(qLin.data.subarray(b * qRow, (b + 1) * qRow), qRot.data.subarray(b * qRow, (b + 1) * qRow), this.rot.cos, this.rot.sin, 1, 1, nHead, D, pos, false, false);
          be.rope(kLin.data.subarray(b * kvRow, (b + 1) * kvRow), kRot.data.subarray(b * kvRow, (b + 1) * kvRow), this.rot.cos, this.rot.sin, 1, 1, nKvHead, D, pos, false, false);
        }
        const q = op.rmsnorm(qRot), k = op.rmsnorm(kRot);
        const y = activation([B, qRow]);
        const lse = arena.alloc(B * nHead);
        for (let b = 0; b < B; b++) {
          const c = caches[b], at = c.pos * kvRow;
          c.k[i].set(k.data.subarray(b * kvRow, (b + 1) * kvRow), at);
          c.v[i].set(v.data.subarray(b * kvRow, (b + 1) * kvRow), at);
          be.attentionForward(q.data.subarray(b * qRow, (b + 1) * qRow), c.k[i], c.v[i], y.data.subarray(b * qRow, (b + 1) * qRow), lse.subarray(b * nHead, (b + 1) * nHead), {
            B: 1, Tq: 1, Tk: c.pos + 1, H: nHead, Hkv: nKvHead, D, scale: 1 / Math.sqrt(D), kvBatchStride: c.maxLen * kvRow,
          });
        }
        x = this.blockTail(x, y, p);
      }
      return op.softcap(op.linear(op.rmsnorm(x), this.param('lm_head.weight')), LOGIT_SOFTCAP).toArray();
    });
    for (const c of caches) c.pos += 1;
    arena.reset();
    return result;
  }
}
