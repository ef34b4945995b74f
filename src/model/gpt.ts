// The GPT of nanochat's "classic" architecture:
//   token embedding (untied) -> RMSNorm -> L x [ x += attn(norm(x)); x += mlp(norm(x)) ] -> RMSNorm -> lm_head
//   attention: bias-free c_q, c_k, c_v, rotary (base 10000), QK-norm, causal softmax, c_proj; grouped-query capable
//   mlp: c_fc C -> 4C, relu^2, c_proj 4C -> C; logits soft-capped 15 tanh(x/15); no biases; no learnable norm weights.
// Weights are stored [out_features, in_features] under the PyTorch names, so checkpoints interoperate.
//
// The block is written once. The three forward passes differ only in where attention gets its keys and
// values (a KVSource): training attends over the whole row, cached inference writes them into a KV cache and
// attends over it, batched decoding feeds one token of each of several sequences, each in its own cache.

import { Tensor, activation, arena, noGrad } from '../tensor/tensor.js';
import type { Buf } from '../tensor/backend.js';
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
export function configFromDepth(
  depth: number, vocabSize: number, sequenceLen: number, opts: { headDim?: number; nKvHead?: number } = {},
): GPTConfig {
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`--depth must be a positive integer, got ${depth}`);
  const nEmbd = 64 * depth;
  const headDim = opts.headDim ?? 128;
  const nHead = Math.max(1, Math.ceil(nEmbd / headDim));
  if (nEmbd % nHead) {
    throw new Error(`model_dim ${nEmbd} does not split into ${nHead} heads; pick a --head-dim that divides ${nEmbd}`);
  }
  const nKvHead = opts.nKvHead ?? nHead;
  if (nHead % nKvHead) throw new Error(`--n-kv-head ${nKvHead} must divide the number of heads ${nHead}`);
  return { vocabSize, nLayer: depth, nHead, nKvHead, nEmbd, sequenceLen };
}

/** One block's weights, each [out_features, in_features]: the Tensors `params` holds under transformer.h.{i}. */
export interface BlockWeights {
  attn: { c_q: Tensor; c_k: Tensor; c_v: Tensor; c_proj: Tensor };
  mlp: { c_fc: Tensor; c_proj: Tensor };
}

export interface KVCache {
  /** per layer: [B, maxLen, Hkv, D], in the backend's storage */
  k: Buf[];
  v: Buf[];
  batch: number;
  maxLen: number;
  /** positions filled so far */
  pos: number;
}

/**
 * Where a block's attention gets its keys and values. attend() takes this step's q [B, T, H, D] and k, v
 * [B, T, Hkv, D] (rotary and QK-norm applied) and returns y [B*T, H*D]; pos0 is the position of each row's
 * first token: one number for all rows, or one per row.
 */
interface KVSource {
  readonly pos0: number | readonly number[];
  attend(layer: number, q: Tensor, k: Tensor, v: Tensor): Tensor;
}

/** Training: causal self-attention over the whole row (positions 0 .. T-1), recorded for the backward. */
const selfAttention: KVSource = {
  pos0: 0,
  attend(_layer, q, k, v) {
    const [B, T, H, D] = q.shape;
    return op.reshape(op.attention(q, k, v), [B * T, H * D]);
  },
};

/**
 * Cached inference: every row of `cache` is at cache.pos; this step's T keys and values of each row go into
 * positions pos .. pos+T-1, and the queries attend over positions 0 .. pos+T-1 of the cache.
 */
function cachedAttention(cache: KVCache): KVSource {
  const pos0 = cache.pos;
  return {
    pos0,
    attend(layer, q, k, v) {
      const [B, T, H, D] = q.shape, Hkv = k.shape[2], kvRow = Hkv * D, n = T * kvRow;
      const be = getBackend();
      for (let b = 0; b < B; b++) {
        const dst = (b * cache.maxLen + pos0) * kvRow, src = b * n;
        be.copy(k.data.subarray(src, src + n), cache.k[layer].subarray(dst, dst + n), n);
        be.copy(v.data.subarray(src, src + n), cache.v[layer].subarray(dst, dst + n), n);
      }
      const y = activation([B * T, H * D]);
      const lse = arena.alloc(B * H * T);
      getBackend().attentionForward(q.data, cache.k[layer], cache.v[layer], y.data, lse, {
        B, Tq: T, Tk: pos0 + T, H, Hkv, D, scale: 1 / Math.sqrt(D), kvBatchStride: cache.maxLen * kvRow,
      });
      return y;
    },
  };
}

/** Batched decoding: row b is the next token of sequence b, attending over its own batch-1 cache caches[b]. */
function decodeAttention(caches: readonly KVCache[]): KVSource {
  const rows = caches.map(cachedAttention);
  // row b of a [B, 1, heads, D] tensor, as a [1, 1, heads, D] view of the same storage
  const row = (t: Tensor, b: number): Tensor => {
    const n = t.size / t.shape[0];
    return new Tensor([1, ...t.shape.slice(1)], t.data.subarray(b * n, (b + 1) * n));
  };
  return {
    pos0: caches.map((c) => c.pos),
    attend(layer, q, k, v) {
      const [B, , H, D] = q.shape;
      const y = activation([B, H * D]), n = H * D;
      rows.forEach((attn, b) => getBackend().copy(attn.attend(layer, row(q, b), row(k, b), row(v, b)).data,
        y.data.subarray(b * n, (b + 1) * n), n));
      return y;
    },
  };
}

export class GPT {
  /** every parameter under its PyTorch name, in checkpoint order (the order initWeights draws them in) */
  readonly params = new Map<string, Tensor>();
  readonly wte: Tensor;
  readonly blocks: readonly BlockWeights[];
  readonly lmHead: Tensor;
  readonly headDim: number;
  readonly vocabPadded: number;
  private rot: { cos: Float32Array; sin: Float32Array };
  /** positions the rotary tables cover */
  private rotaryLen: number;

  constructor(readonly config: GPTConfig) {
    const { vocabSize, nLayer, nHead, nKvHead, nEmbd } = config;
    this.headDim = nEmbd / nHead;
    if (!Number.isInteger(this.headDim) || this.headDim % 2) {
      throw new Error(`head dim ${this.headDim} (model_dim ${nEmbd} / ${nHead} heads) must be an even integer`);
    }
    this.vocabPadded = padVocab(vocabSize);
    const C = nEmbd, D = this.headDim;
    this.wte = this.add('transformer.wte.weight', [this.vocabPadded, C]);
    this.blocks = Array.from({ length: nLayer }, (_, i): BlockWeights => {
      const weight = (name: string, shape: number[]) => this.add(`transformer.h.${i}.${name}.weight`, shape);
      const attn = {
        c_q: weight('attn.c_q', [nHead * D, C]),
        c_k: weight('attn.c_k', [nKvHead * D, C]),
        c_v: weight('attn.c_v', [nKvHead * D, C]),
        c_proj: weight('attn.c_proj', [C, nHead * D]),
      };
      return { attn, mlp: { c_fc: weight('mlp.c_fc', [4 * C, C]), c_proj: weight('mlp.c_proj', [C, 4 * C]) } };
    });
    this.lmHead = this.add('lm_head.weight', [this.vocabPadded, C]);
    // rotary tables with headroom beyond the training context (10x, like the reference) for generation
    this.rotaryLen = config.sequenceLen * 10;
    this.rot = op.rotaryTables(this.rotaryLen, D);
  }

  private add(name: string, shape: number[]): Tensor {
    const t = Tensor.parameter(shape);
    this.params.set(name, t);
    return t;
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
      const d = new Float32Array(t.size);
      if (name === 'transformer.wte.weight') for (let i = 0; i < d.length; i++) d[i] = randn();
      else if (name !== 'lm_head.weight' && !name.endsWith('.c_proj.weight')) {
        const [fanOut, fanIn] = t.shape;
        const std = (1 / Math.sqrt(fanIn)) * Math.min(1, Math.sqrt(fanOut / fanIn));
        for (let i = 0; i < d.length; i++) d[i] = std * randn();
      }
      getBackend().write(t.data, d);
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
    return 6 * (this.numParams() - this.wte.size) + 12 * nLayer * nHead * this.headDim * sequenceLen;
  }

  /**
   * Optimizer groups: AdamW for the embedding (0.2) and head (0.004), scaled by (C/768)^-0.5;
   * Muon (0.02) for every matrix in the blocks.
   */
  paramGroups(lr: { embedding: number; unembedding: number; matrix: number }): ParamGroup[] {
    const scaleLr = Math.pow(this.config.nEmbd / 768, -0.5);
    const named = (pred: (n: string) => boolean) =>
      [...this.params].filter(([n]) => pred(n)).map(([name, tensor]) => ({ name, tensor }));
    const adam = { betas: [0.8, 0.95] as [number, number], eps: 1e-10, weightDecay: 0 };
    return [
      { kind: 'adamw', params: named((n) => n === 'transformer.wte.weight'), lr: lr.embedding * scaleLr, ...adam },
      { kind: 'adamw', params: named((n) => n === 'lm_head.weight'), lr: lr.unembedding * scaleLr, ...adam },
      {
        kind: 'muon', params: named((n) => n.startsWith('transformer.h.')), lr: lr.matrix,
        momentumStart: 0.85, momentumEnd: 0.95, momentumWarmupSteps: 300, nsSteps: 5,
      },
    ];
  }

  /** One transformer block on x [B*T, C]: x += attn(norm(x)); x += mlp(norm(x)), attention reading from kv. */
  private block(x: Tensor, layer: number, B: number, T: number, kv: KVSource): Tensor {
    const { attn, mlp } = this.blocks[layer];
    const { nHead, nKvHead } = this.config;
    const D = this.headDim;
    const h = op.rmsnorm(x);
    const q = op.reshape(op.linear(h, attn.c_q), [B, T, nHead, D]);
    const k = op.reshape(op.linear(h, attn.c_k), [B, T, nKvHead, D]);
    const v = op.reshape(op.linear(h, attn.c_v), [B, T, nKvHead, D]);
    // rotary, then QK-norm
    const y = kv.attend(layer, op.rmsnorm(this.rotate(q, kv.pos0)), op.rmsnorm(this.rotate(k, kv.pos0)), v);
    x = op.add(x, op.linear(y, attn.c_proj));
    const m = op.reluSquared(op.linear(op.rmsnorm(x), mlp.c_fc));
    return op.add(x, op.linear(m, mlp.c_proj));
  }

  private rotate(x: Tensor, pos0: number | readonly number[]): Tensor {
    return op.rope(x, this.rot.cos, this.rot.sin, pos0);
  }

  /** Embedding, norm and every block over ids [B, T]: the final hidden states [B*T, C], before the last norm. */
  private hidden(ids: Int32Array, B: number, T: number, kv: KVSource): Tensor {
    let x = op.rmsnorm(op.embedding(this.wte, ids, [B * T]));
    for (let layer = 0; layer < this.blocks.length; layer++) x = this.block(x, layer, B, T, kv);
    return x;
  }

  /** The head's output before the soft-cap, [rows, Vpad] of hidden states [rows, C]: lm_head(norm(x)). */
  private head(x: Tensor): Tensor {
    return op.linear(op.rmsnorm(x), this.lmHead);
  }

  /** Soft-capped logits [rows, Vpad] of hidden states [rows, C]: 15 tanh(lm_head(norm(x)) / 15). */
  private logits(x: Tensor): Tensor {
    return op.softcap(this.head(x), LOGIT_SOFTCAP);
  }

  /**
   * Forward over ids [B, T]. Returns soft-capped logits [B*T, Vpad] and, with targets (-1 = ignore),
   * the cross-entropy ('mean' scalar, 'sum', or 'none' per token). Records the graph unless under noGrad.
   * With targets the loss is computed by the fused soft-cap + cross-entropy straight from the raw head output
   * (`rawLogits`, whose .grad the backward fills), and the capped `logits` are only computed if read, outside
   * the loss's graph: training never reads them, so the [B*T, Vpad] capped array is never made.
   */
  forward(
    ids: Int32Array, B: number, T: number, targets?: Int32Array, reduction: 'mean' | 'sum' | 'none' = 'mean',
  ): { logits: Tensor; loss?: Tensor; rawLogits?: Tensor } {
    if (ids.length !== B * T) throw new Error(`forward: ${ids.length} ids for B=${B} x T=${T}`);
    if (T > this.rotaryLen) throw new Error(`forward: sequence length ${T} exceeds the model's rotary range`);
    const x = this.hidden(ids, B, T, selfAttention);
    if (!targets) return { logits: this.logits(x) };
    if (targets.length !== B * T) throw new Error(`forward: ${targets.length} targets for B=${B} x T=${T}`);
    const raw = this.head(x);
    const loss = op.softcapCrossEntropy(raw, targets, this.config.vocabSize, LOGIT_SOFTCAP, reduction);
    let capped: Tensor | undefined;
    return {
      get logits(): Tensor { return (capped ??= op.softcap(raw, LOGIT_SOFTCAP)); },
      loss,
      rawLogits: raw,
    };
  }

  /** A KV cache for `batch` rows of up to maxLen positions. */
  newCache(batch: number, maxLen: number): KVCache {
    const { nLayer, nKvHead } = this.config;
    const per = batch * maxLen * nKvHead * this.headDim, be = getBackend();
    return {
      k: Array.from({ length: nLayer }, () => be.alloc(per)),
      v: Array.from({ length: nLayer }, () => be.alloc(per)),
      batch, maxLen, pos: 0,
    };
  }

  /** Hand a cache's buffers back to the backend (a device frees them now; host memory is left to the GC). */
  releaseCache(cache: KVCache): void {
    const be = getBackend();
    for (const buf of [...cache.k, ...cache.v]) be.release(buf);
    cache.k = [];
    cache.v = [];
  }

  /**
   * Inference step with a KV cache: ids [B, T] are the next T tokens of every row (prefill: the prompt;
   * decode: T = 1). Appends their keys and values to the cache and resolves to the logits of the last
   * position of each row, [B, Vpad] (a host copy, read back asynchronously so a device backend works).
   * No graph is recorded, and the arena is reset afterwards: call it between training steps, never while
   * a step's activations are still needed, and await it before the next forward.
   */
  async forwardCached(ids: Int32Array, B: number, T: number, cache: KVCache): Promise<Float32Array> {
    if (B !== cache.batch) throw new Error(`forwardCached: cache has ${cache.batch} rows, got ${B}`);
    if (cache.pos + T > cache.maxLen) {
      throw new Error(`forwardCached: ${cache.pos} + ${T} positions exceed the cache length ${cache.maxLen}`);
    }
    if (cache.pos + T > this.rotaryLen) throw new Error('forwardCached: position beyond the rotary tables');
    const logits = await this.lastLogits(ids, B, T, cachedAttention(cache));
    cache.pos += T;
    return logits;
  }

  /**
   * One decode step for several independent sequences (serving many requests at once): ids[b] is the
   * next token of sequence b, whose own batch-1 cache `caches[b]` may be at any position. The matmuls
   * run over all rows together, so the weights are read once per step instead of once per sequence
   * (decoding is memory-bound: `bench serve` measured 1.96x the total tokens/s with batch 8 as with
   * batch 1 on a d4 worker); rotary positions, the cache appends and attention are per row. Resolves to
   * [B, Vpad] logits; equal to forwardCached(ids[b], 1, 1, caches[b]) for each b, up to float rounding.
   * The arena is reset afterwards, as forwardCached.
   */
  async forwardDecode(ids: Int32Array, caches: readonly KVCache[]): Promise<Float32Array> {
    const B = ids.length;
    if (caches.length !== B) throw new Error(`forwardDecode: ${B} tokens for ${caches.length} caches`);
    for (const c of caches) {
      if (c.batch !== 1) throw new Error(`forwardDecode: every cache holds one sequence, got one with ${c.batch} rows`);
      if (c.pos + 1 > c.maxLen) throw new Error(`forwardDecode: a cache at ${c.pos} of ${c.maxLen} positions is full`);
      if (c.pos + 1 > this.rotaryLen) throw new Error('forwardDecode: position beyond the rotary tables');
    }
    const logits = await this.lastLogits(ids, B, 1, decodeAttention(caches));
    for (const c of caches) c.pos += 1;
    return logits;
  }

  /** Logits of each row's last position, [B, Vpad] read back to the host; no graph, and the arena is reset after. */
  private async lastLogits(ids: Int32Array, B: number, T: number, kv: KVSource): Promise<Float32Array> {
    try {
      return await this.lastLogitsTensor(ids, B, T, kv).read();
    } finally {
      arena.reset();
    }
  }

  /** The same as a device tensor of the arena, read by the caller before the next reset. */
  private lastLogitsTensor(ids: Int32Array, B: number, T: number, kv: KVSource): Tensor {
    return noGrad(() => {
      const x = this.hidden(ids, B, T, kv);
      if (T === 1) return this.logits(x);
      const C = this.config.nEmbd;
      const last = activation([B, C]);
      for (let b = 0; b < B; b++) {
        getBackend().copy(x.data.subarray((b * T + T - 1) * C, (b * T + T) * C), last.data.subarray(b * C, (b + 1) * C), C);
      }
      return this.logits(last);
    });
  }
}
