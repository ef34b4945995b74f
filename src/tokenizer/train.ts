// Tokenizer training end to end: documents -> chunk counts -> merges -> a BpeTokenizer with our
// 9 special tokens after the merges (ids 0-255 bytes, 256..V-10 merges, V-9..V-1 specials).

import { BpeTokenizer, ourSpecials } from './bpe.js';
import { countChunks } from './chunk-count.js';
import { trainBpe } from './bpe-train.js';
import { SPECIAL_TOKENS } from './types.js';

const OUR_PATTERN = 'gpt4-digits2' as const;

export interface TrainOptions {
  vocabSize: number;
  threads?: number;
  onCount?: (chars: number) => void;
  onMerge?: (merges: number) => void;
}

export interface TrainStats {
  vocabSize: number;
  merges: number;
  uniqueChunks: number;
  countSeconds: number;
  mergeSeconds: number;
  trainSeconds: number;
}

/** Smallest useful vocabulary: the 256 bytes and the specials, no merges. */
export const MIN_VOCAB = 256 + SPECIAL_TOKENS.length;

export async function trainTokenizer(docs: AsyncIterable<string> | Iterable<string>, opts: TrainOptions): Promise<{ tokenizer: BpeTokenizer; stats: TrainStats }> {
  if (opts.vocabSize < MIN_VOCAB) throw new RangeError(`vocab size must be at least ${MIN_VOCAB} (256 bytes + ${SPECIAL_TOKENS.length} special tokens)`);
  const t0 = performance.now();
  const counts = await countChunks(docs, { pattern: OUR_PATTERN, threads: opts.threads, onBatch: opts.onCount });
  const t1 = performance.now();
  const result = trainBpe(counts, opts.vocabSize - MIN_VOCAB, opts.onMerge);
  const t2 = performance.now();
  const tokens = result.tokens;
  const tokenizer = new BpeTokenizer({ name: 'nanochat', tokens, pattern: OUR_PATTERN, specials: ourSpecials(tokens.length) });
  return {
    tokenizer,
    stats: {
      vocabSize: tokenizer.vocabSize,
      merges: result.merges.length,
      uniqueChunks: result.uniqueChunks,
      countSeconds: (t1 - t0) / 1000,
      mergeSeconds: (t2 - t1) / 1000,
      trainSeconds: (t2 - t0) / 1000,
    },
  };
}

/**
 * The training text: documents in order, each capped at `docCap` UTF-16 units (never splitting a
 * surrogate pair), until more than `maxChars` have been yielded (like the reference's iterator).
 */
export async function* cappedDocs(docs: AsyncIterable<string> | Iterable<string>, maxChars: number, docCap: number, seen?: { chars: number; docs: number }): AsyncGenerator<string> {
  let chars = 0;
  for await (let d of docs) {
    if (d.length > docCap) {
      let cut = docCap;
      const c = d.charCodeAt(cut - 1);
      if (c >= 0xd800 && c <= 0xdbff) cut--;
      d = d.slice(0, cut);
    }
    chars += d.length;
    if (seen) {
      seen.chars = chars;
      seen.docs++;
    }
    yield d;
    if (chars > maxChars) return;
  }
}

/** Byte-length statistics of all non-special tokens (bytes and merges), as the reference reports them. */
export function tokenLengthStats(tok: BpeTokenizer): { min: number; max: number; mean: number; std: number } {
  const lens: number[] = [];
  const tb = tok.tokenBytes();
  for (let id = 0; id < tb.length; id++) if (tb[id] > 0) lens.push(tb[id]);
  const mean = lens.reduce((a, b) => a + b, 0) / lens.length;
  const std = Math.sqrt(lens.reduce((a, b) => a + (b - mean) ** 2, 0) / lens.length);
  return { min: lens.reduce((a, b) => Math.min(a, b)), max: lens.reduce((a, b) => Math.max(a, b)), mean, std };
}
