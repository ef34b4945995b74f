// The inference engine: KV-cached generation with per-row sampling and tool use.
//
//   1. prefill: run the prompt once (batch 1), filling a KV cache; keep the last position's logits
//   2. replicate: copy that cache into every one of `numSamples` rows
//   3. decode: each step, every live row samples its next token from its own logits row (first
//      step: the shared prefill logits) with its own seeded RNG, the tool state machine may replace
//      it with a forced token, and the new column of tokens is fed back (one position per row)
//   4. a row ends on <|assistant_end|> or <|bos|> ('stop'), all rows end after maxTokens
//      ('length') or when prompt + generated reaches the model's context length ('context')
//
// The model is anything with GPT's cached-forward surface (EngineModel), so tests can drive the
// engine with a scripted fake and check the tool machinery without a trained model.

import type { KVCache } from '../model/gpt.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { replicateCache } from './kv-cache.js';
import { seededRng, type Rng } from '../tensor/random.js';
import { rowSeed, sampleToken } from './sampling.js';
import { engineSpecials, ToolRow, type EngineSpecials } from './tool-state.js';
import { TextStream } from './text-stream.js';

/** What the engine needs from a model; src/model/gpt.ts's GPT provides it. */
export interface EngineModel {
  readonly config: { vocabSize: number; sequenceLen: number };
  /** columns per logits row (the head is padded; only the first vocabSize are real) */
  readonly vocabPadded: number;
  newCache(batch: number, maxLen: number): KVCache;
  /** give a cache's storage back once it is dropped (GPU memory is not garbage collected) */
  releaseCache(cache: KVCache): void;
  /**
   * feed ids [B, T] after the cache's positions; resolves to the logits of each row's last position,
   * [B, vocabPadded] (read back from the device, hence a promise); one forward at a time
   */
  forwardCached(ids: Int32Array, B: number, T: number, cache: KVCache): Promise<Float32Array>;
  /** one token for each of several sequences with their own batch-1 caches (decode-batch.ts); optional */
  forwardDecode?(ids: Int32Array, caches: readonly KVCache[]): Promise<Float32Array>;
}

/** Why a row stopped: its own end token, the max-tokens budget, or the model's context length. */
export type FinishReason = 'stop' | 'length' | 'context';

export interface GenerateOptions {
  /** rows sampled from the one prompt (default 1) */
  numSamples?: number;
  /** most tokens to generate per row, forced ones included (default: until the context is full) */
  maxTokens?: number;
  /** 0 = greedy (default 1.0, the reference's) */
  temperature?: number;
  /** sample among the k most likely tokens only (default: all) */
  topK?: number;
  /** base seed; row r uses rowSeed(seed, r) (default 42, the reference's) */
  seed?: number;
}

/** One decode step over all rows. */
export interface Step {
  /** the token each row took this step; -1 for a row that had finished before */
  tokens: number[];
  /** true where the token was forced by the tool machinery (not sampled: RL must skip it) */
  forced: boolean[];
  /** set on the step a row finishes (its token is the end token for 'stop'), else null */
  finished: (FinishReason | null)[];
}

export interface BatchResult {
  /** generated tokens per row, without the terminating <|assistant_end|>/<|bos|> (as the reference) */
  generated: number[][];
  /** per generated token: 1 sampled, 0 forced */
  masks: number[][];
  finish: FinishReason[];
}

/** One token of a single-row text stream. */
export interface TextChunk {
  token: number;
  forced: boolean;
  /** the display text this token completes (see text-stream.ts); the last chunk includes the flushed tail */
  text: string;
  /** set on the last chunk */
  finish: FinishReason | null;
}

/** The prompt leaves no room to generate (or is empty); the message says by how much. */
export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

export class Engine {
  readonly specials: EngineSpecials;
  /** longest prompt + generation: the context the model was trained on */
  readonly contextLength: number;

  constructor(readonly model: EngineModel, readonly tok: TextTokenizer, opts: { contextLength?: number } = {}) {
    if (tok.vocabSize > model.config.vocabSize) {
      throw new Error(`the tokenizer has ${tok.vocabSize} tokens but the model only ${model.config.vocabSize}: they do not belong together`);
    }
    this.specials = engineSpecials(tok);
    this.contextLength = opts.contextLength ?? model.config.sequenceLen;
  }

  /** Largest number of new tokens a prompt of this length leaves room for. */
  room(promptLength: number): number {
    return Math.max(0, this.contextLength - promptLength);
  }

  /**
   * Check a prompt and work out how many tokens may follow it: maxTokens, or less when the context
   * runs out first, and the reason a row that uses them all will give ('length' or 'context').
   */
  budget(prompt: ArrayLike<number>, maxTokens: number | undefined): { budget: number; budgetReason: FinishReason } {
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) throw new Error(`maxTokens must be a positive integer, got ${maxTokens}`);
    if (prompt.length === 0) throw new ContextError('the prompt is empty: it needs at least <|bos|>');
    const V = this.model.config.vocabSize;
    for (let i = 0; i < prompt.length; i++) {
      if (!Number.isInteger(prompt[i]) || prompt[i] < 0 || prompt[i] >= V) throw new Error(`prompt token ${i} is ${prompt[i]}, outside the vocabulary 0..${V - 1}`);
    }
    const room = this.room(prompt.length);
    if (room === 0) {
      throw new ContextError(`the prompt is ${prompt.length} tokens and the model's context is ${this.contextLength}: nothing can be generated; shorten the conversation`);
    }
    return { budget: Math.min(maxTokens ?? room, room), budgetReason: maxTokens !== undefined && maxTokens <= room ? 'length' : 'context' };
  }

  /**
   * Generate from one prompt; yields one Step per decode step until every row has finished.
   * Stop early by leaving the `for await` loop (the generator is then closed, its caches are released
   * and nothing else runs).
   */
  async *generate(prompt: ArrayLike<number>, opts: GenerateOptions = {}): AsyncGenerator<Step, void, undefined> {
    const n = opts.numSamples ?? 1;
    const temperature = opts.temperature ?? 1.0;
    const seed = opts.seed ?? 42;
    if (!Number.isInteger(n) || n < 1) throw new Error(`numSamples must be a positive integer, got ${n}`);
    const { budget, budgetReason } = this.budget(prompt, opts.maxTokens);
    const V = this.model.config.vocabSize;

    // 1. prefill once; the cache holds the prompt plus every fed token (the last sampled one is never fed)
    const cacheLen = prompt.length + budget;
    const prefill = this.model.newCache(1, cacheLen);
    let cache = prefill;
    // the caches go back to the backend however the generator ends (done, error, or closed early by the
    // caller); the prefill one only then, as a device may still have the replicating copies queued
    try {
      let logits = await this.model.forwardCached(Int32Array.from(prompt), 1, prompt.length, prefill);
      // 2. replicate across the sample rows
      if (n > 1) {
        cache = this.model.newCache(n, cacheLen);
        replicateCache(prefill, cache);
      }

      const rows = Array.from({ length: n }, () => new ToolRow(this.tok, this.specials));
      const rngs: Rng[] = Array.from({ length: n }, (_, r) => seededRng(rowSeed(seed, r)));
      const done = new Array<boolean>(n).fill(false);
      const last = new Int32Array(n);
      const Vp = this.model.vocabPadded;
      let alive = n;

      // 3. decode
      for (let g = 0; g < budget; g++) {
        const step: Step = {
          tokens: new Array(n).fill(-1), forced: new Array(n).fill(false), finished: new Array(n).fill(null),
        };
        for (let r = 0; r < n; r++) {
          if (done[r]) continue;
          // the first step samples every row from the one prefill row; later steps from the row's own
          const offset = (g === 0 ? 0 : r) * Vp;
          const d = rows[r].step(sampleToken(logits, offset, V, { temperature, topK: opts.topK }, rngs[r]));
          step.tokens[r] = d.token;
          step.forced[r] = d.forced;
          last[r] = d.token;
          if (d.ends) {
            step.finished[r] = 'stop';
            done[r] = true;
            alive--;
          }
        }
        // 4. out of budget: every row still going ends here
        if (g === budget - 1) {
          for (let r = 0; r < n; r++) {
            if (!done[r]) {
              step.finished[r] = budgetReason;
              done[r] = true;
            }
          }
          alive = 0;
        }
        yield step;
        if (alive === 0) return;
        // finished rows feed their last token again: harmless, their logits are never read
        logits = await this.model.forwardCached(last, n, 1, cache);
      }
    } finally {
      this.model.releaseCache(prefill);
      if (cache !== prefill) this.model.releaseCache(cache);
    }
  }

  /** Run generate() to the end and collect each row's tokens and sampled/forced mask (for RL and evals). */
  async generateBatch(prompt: ArrayLike<number>, opts: GenerateOptions = {}): Promise<BatchResult> {
    const n = opts.numSamples ?? 1;
    const generated: number[][] = Array.from({ length: n }, () => []);
    const masks: number[][] = Array.from({ length: n }, () => []);
    const finish: FinishReason[] = new Array(n).fill('length');
    for await (const step of this.generate(prompt, opts)) {
      for (let r = 0; r < n; r++) {
        const t = step.tokens[r];
        if (t < 0) continue;
        const reason = step.finished[r];
        if (reason) finish[r] = reason;
        if (reason === 'stop') continue; // the end token itself is not part of the answer
        generated[r].push(t);
        masks[r].push(step.forced[r] ? 0 : 1);
      }
    }
    return { generated, masks, finish };
  }

  /** One row as display text, token by token (chat and serving); leave the `for await` loop to stop. */
  async *streamText(
    prompt: ArrayLike<number>, opts: Omit<GenerateOptions, 'numSamples'> = {},
  ): AsyncGenerator<TextChunk, void, undefined> {
    const text = new TextStream(this.tok);
    for await (const step of this.generate(prompt, { ...opts, numSamples: 1 })) {
      const token = step.tokens[0];
      const finish = step.finished[0];
      yield { token, forced: step.forced[0], text: text.take(token, finish), finish };
    }
  }
}
