// Picking the next token from a row of logits: temperature, top-k, a seeded RNG.
//
// Temperature 0 means argmax (greedy; no randomness used). Otherwise the logits are restricted to
// the k largest (top-k; undefined or 0 = the whole vocabulary), divided by the temperature,
// softmaxed and sampled by inverse CDF with one uniform draw. Only the first `vocabSize` columns
// are real: the model pads its head to a multiple of 64 and the padding is never sampled.

import type { Rng } from '../tensor/random.js';

/**
 * A well-mixed seed for row `row` of a generation seeded with `seed` (splitmix32 finalizer), so
 * every row has its own stream: row r samples the same way whatever the number of rows.
 */
export function rowSeed(seed: number, row: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(row + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}

export interface SamplingOptions {
  /** 0 = greedy argmax; the reference's chat default is 0.6, RL uses 1.0 */
  temperature: number;
  /** keep only the k most likely tokens; undefined/0 = no restriction */
  topK?: number;
}

/** Index of the largest of logits[offset .. offset+n) (the first one on ties, like torch.argmax). */
export function argmax(logits: Float32Array, offset: number, n: number): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[offset + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/**
 * Sample one token id from logits[offset .. offset+vocabSize).
 * Top-k keeps a small sorted list of the k best (O(V) scans plus O(k) insertions for the rare
 * values that beat the current k-th best), cheap for the usual k = 50 and V up to 65536.
 */
export function sampleToken(logits: Float32Array, offset: number, vocabSize: number, opts: SamplingOptions, rng: Rng): number {
  const { temperature } = opts;
  if (!(temperature >= 0)) throw new Error(`temperature must be >= 0, got ${temperature}`);
  if (temperature === 0) return argmax(logits, offset, vocabSize);
  const k = opts.topK && opts.topK > 0 ? Math.min(opts.topK, vocabSize) : vocabSize;

  let ids: Int32Array;
  let vals: Float32Array;
  if (k < vocabSize) {
    // descending lists of the k best seen so far
    ids = new Int32Array(k);
    vals = new Float32Array(k).fill(-Infinity);
    let filled = 0;
    for (let i = 0; i < vocabSize; i++) {
      const v = logits[offset + i];
      if (filled === k && !(v > vals[k - 1])) continue;
      let j = filled < k ? filled++ : k - 1;
      while (j > 0 && vals[j - 1] < v) {
        vals[j] = vals[j - 1];
        ids[j] = ids[j - 1];
        j--;
      }
      vals[j] = v;
      ids[j] = i;
    }
  } else {
    // all tokens: the logits row itself, ids implied by position (no index array to build per token)
    ids = IDENTITY;
    vals = logits.subarray(offset, offset + vocabSize);
  }

  // softmax(vals / T) with the max subtracted for stability, then one inverse-CDF draw
  let max = -Infinity;
  for (let i = 0; i < vals.length; i++) if (vals[i] > max) max = vals[i];
  const w = new Float64Array(vals.length);
  let total = 0;
  for (let i = 0; i < vals.length; i++) {
    w[i] = Math.exp((vals[i] - max) / temperature);
    total += w[i];
  }
  const id = (i: number) => (ids === IDENTITY ? i : ids[i]);
  let u = rng() * total;
  for (let i = 0; i < w.length; i++) {
    u -= w[i];
    if (u < 0) return id(i);
  }
  // rounding left a sliver at the end: the last token with weight
  for (let i = w.length - 1; i >= 0; i--) if (w[i] > 0) return id(i);
  return id(0);
}

/** Marks "ids are the positions themselves" (sampling over the whole vocabulary). */
const IDENTITY = new Int32Array(0);
