// Shared test fixtures for the engine and server tests: a tiny GPT whose outputs depend on the input
// (init zeroes lm_head and the output projections, which would make every logit 0), and a scripted
// fake model that emits chosen tokens so the tool machinery can be tested without training.

import { GPT, type KVCache } from '../../src/model/gpt.js';
import { gaussianRng } from '../../src/tensor/random.js';
import type { EngineModel } from '../../src/engine/engine.js';
import { hostData } from '../../src/tensor/tensor.js';

/** A 1-layer GPT over `vocabSize` tokens with every weight random (seeded). */
export function tinyGpt(vocabSize: number, opts: { seed?: number; sequenceLen?: number; nLayer?: number; nEmbd?: number } = {}): GPT {
  const m = new GPT({ vocabSize, nLayer: opts.nLayer ?? 1, nHead: 2, nKvHead: 2, nEmbd: opts.nEmbd ?? 32, sequenceLen: opts.sequenceLen ?? 64 });
  const seed = opts.seed ?? 1;
  m.initWeights(seed);
  const randn = gaussianRng(seed + 1000);
  for (const [name, t] of m.params) {
    if (name === 'lm_head.weight' || name.endsWith('c_proj.weight')) {
      // 0.5 keeps the logits spread (before the 15-softcap) so greedy choices are not near-ties
      { const d = hostData(t.data); for (let i = 0; i < d.length; i++) d[i] = 0.5 * randn(); }
    }
  }
  return m;
}

/** Every item of an async iterable, in order (Array.fromAsync arrived after Node 20). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/**
 * A fake model that plays a script: row r's logits after its j-th fed token make script[r][j] the
 * only likely token (logit 30 vs 0). Records every column it was fed, so tests can see what the
 * engine passed back (forced tokens included), and the caches it made and was given back, so tests
 * can check that none leaks (on a GPU their memory is not garbage collected).
 */
export class ScriptedModel implements EngineModel {
  readonly config: { vocabSize: number; sequenceLen: number };
  readonly vocabPadded: number;
  readonly fed: number[][] = [];
  /** caches made by newCache and not yet released */
  readonly liveCaches = new Set<KVCache>();
  private steps = 0;

  constructor(vocabSize: number, private readonly script: number[][], sequenceLen = 256) {
    this.config = { vocabSize, sequenceLen };
    this.vocabPadded = Math.ceil(vocabSize / 64) * 64;
  }

  newCache(batch: number, maxLen: number): KVCache {
    const cache = { k: [], v: [], batch, maxLen, pos: 0 };
    this.liveCaches.add(cache);
    return cache;
  }

  releaseCache(cache: KVCache): void {
    if (!this.liveCaches.delete(cache)) throw new Error('releaseCache: a cache released twice, or not made here');
  }

  async forwardCached(ids: Int32Array, B: number, T: number, cache: KVCache): Promise<Float32Array> {
    if (!this.liveCaches.has(cache)) throw new Error('forwardCached: a released cache');
    cache.pos += T;
    if (T === 1) this.fed.push(Array.from(ids));
    const out = new Float32Array(B * this.vocabPadded);
    for (let b = 0; b < B; b++) {
      const row = this.script[Math.min(b, this.script.length - 1)];
      const want = row[Math.min(this.steps, row.length - 1)];
      out[b * this.vocabPadded + want] = 30;
    }
    this.steps++;
    return out;
  }
}
