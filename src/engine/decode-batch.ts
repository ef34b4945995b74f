// Decoding many independent requests together (continuous batching, for the server).
//
// Each request is a stream with its own prompt, sampling settings, tool state and batch-1 KV cache.
//   add(prompt)  prefills the prompt alone (batch 1) and takes the stream's first token
//   step()       feeds every live stream's last token in ONE forward (GPT.forwardDecode) and takes
//                each stream's next token; streams join and leave between steps
// Both are async (the logits are read back from the backend) and share the model's arena: await each
// before calling the next. A stream's cache goes back to the backend when it finishes or is removed.
// Decoding is memory-bound (every step reads all the weights), so a step of 8 streams costs far less
// than 8 steps of one: `nanochat bench serve` measured 1.96x the total tokens/s at batch 8 (d4).
//
// A stream produces exactly what Engine.streamText would for the same prompt and options (same
// per-row seed, same tool machinery, same finish rules), up to float rounding in the batched matmuls.

import type { KVCache } from '../model/gpt.js';
import type { Engine, FinishReason, GenerateOptions } from './engine.js';
import { seededRng, type Rng } from '../tensor/random.js';
import { rowSeed, sampleToken } from './sampling.js';
import { TextStream } from './text-stream.js';
import { ToolRow } from './tool-state.js';

export type StreamOptions = Omit<GenerateOptions, 'numSamples'>;

/** One request being decoded. */
export class DecodeStream {
  /** tokens taken so far (sampled and forced) */
  generated = 0;
  finish: FinishReason | null = null;
  /** the last token taken: fed to the model at the next step */
  last = -1;

  constructor(
    readonly cache: KVCache,
    readonly budget: number,
    readonly budgetReason: FinishReason,
    readonly tools: ToolRow,
    readonly rng: Rng,
    readonly text: TextStream,
    readonly temperature: number,
    readonly topK: number | undefined,
  ) {}
}

/** A token one stream took, as display text (the last event of a stream carries its finish reason). */
export interface StreamEvent {
  stream: DecodeStream;
  token: number;
  forced: boolean;
  text: string;
  finish: FinishReason | null;
}

export class DecodeBatch {
  private readonly live: DecodeStream[] = [];

  constructor(readonly engine: Engine) {}

  /** Streams still decoding. */
  get size(): number {
    return this.live.length;
  }

  /**
   * Start a stream: prefill its prompt (alone) and take its first token. Rejects with ContextError when
   * the prompt leaves no room (nothing is added then). A stream that ends at once is not kept.
   */
  async add(prompt: ArrayLike<number>, opts: StreamOptions = {}): Promise<StreamEvent> {
    const { engine } = this;
    const { budget, budgetReason } = engine.budget(prompt, opts.maxTokens);
    const cache = engine.model.newCache(1, prompt.length + budget);
    let logits: Float32Array;
    try {
      logits = await engine.model.forwardCached(Int32Array.from(prompt), 1, prompt.length, cache);
    } catch (e) {
      engine.model.releaseCache(cache);
      throw e;
    }
    const stream = new DecodeStream(
      cache, budget, budgetReason, new ToolRow(engine.tok, engine.specials), seededRng(rowSeed(opts.seed ?? 42, 0)),
      new TextStream(engine.tok), opts.temperature ?? 1.0, opts.topK,
    );
    const event = this.take(stream, logits, 0);
    if (stream.finish) engine.model.releaseCache(cache);
    else this.live.push(stream);
    return event;
  }

  /** One decode step over every live stream; one event per stream, in the order they were added. */
  async step(): Promise<StreamEvent[]> {
    const streams = this.live.slice();
    if (streams.length === 0) return [];
    const ids = Int32Array.from(streams, (s) => s.last);
    const model = this.engine.model;
    const Vp = model.vocabPadded;
    let logits: Float32Array;
    if (model.forwardDecode) logits = await model.forwardDecode(ids, streams.map((s) => s.cache));
    else {
      // a model without the batched step (test fakes): one forward per stream, same result
      logits = new Float32Array(streams.length * Vp);
      for (const [b, s] of streams.entries()) {
        logits.set((await model.forwardCached(ids.subarray(b, b + 1), 1, 1, s.cache)).subarray(0, Vp), b * Vp);
      }
    }
    const events = streams.map((s, b) => this.take(s, logits, b * Vp));
    for (const s of streams) if (s.finish) this.remove(s);
    return events;
  }

  /** Drop a stream (finished or cancelled) and give its cache back to the backend; a second call does nothing. */
  remove(stream: DecodeStream): void {
    const i = this.live.indexOf(stream);
    if (i < 0) return;
    this.live.splice(i, 1);
    this.engine.model.releaseCache(stream.cache);
  }

  /** Sample the stream's next token from its logits row, run the tool machinery, decide whether it ends. */
  private take(s: DecodeStream, logits: Float32Array, offset: number): StreamEvent {
    const V = this.engine.model.config.vocabSize;
    const d = s.tools.step(sampleToken(logits, offset, V, { temperature: s.temperature, topK: s.topK }, s.rng));
    s.generated++;
    s.last = d.token;
    if (d.ends) s.finish = 'stop';
    else if (s.generated === s.budget) s.finish = s.budgetReason;
    return { stream: s, token: d.token, forced: d.forced, text: s.text.take(d.token, s.finish), finish: s.finish };
  }
}
