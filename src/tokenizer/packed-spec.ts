// A tokenizer's vocabulary as one byte buffer and offsets, so it clones cheaply into a worker thread.

import type { BpeSpec, BpeTokenizer } from './bpe.js';
import type { PatternName } from './pattern.js';

/** A BpeSpec flattened into one byte buffer + offsets (cheap to clone into a worker). */
export interface PackedSpec {
  name: string;
  bytes: Uint8Array;
  /** token id -> start in bytes; a token is bytes[offsets[id] .. offsets[id + 1]]; -1 marks a hole */
  offsets: Int32Array;
  pattern: PatternName;
  specials: Record<string, number>;
}

export function packSpec(tok: BpeTokenizer): PackedSpec {
  let total = 0;
  for (const t of tok.tokens) total += t?.length ?? 0;
  const bytes = new Uint8Array(total);
  const offsets = new Int32Array(tok.tokens.length + 1);
  let o = 0;
  tok.tokens.forEach((t, id) => {
    offsets[id] = t ? o : -1;
    if (t) {
      bytes.set(t, o);
      o += t.length;
    }
  });
  offsets[tok.tokens.length] = o;
  return { name: tok.name, bytes, offsets, pattern: tok.pattern, specials: Object.fromEntries(tok.specials) };
}

export function unpackSpec(p: PackedSpec): BpeSpec {
  const tokens: (Uint8Array | undefined)[] = [];
  const n = p.offsets.length - 1;
  for (let id = 0; id < n; id++) {
    if (p.offsets[id] < 0) continue;
    let end = id + 1;
    while (p.offsets[end] < 0) end++;
    tokens[id] = p.bytes.subarray(p.offsets[id], p.offsets[end]);
  }
  return { name: p.name, tokens, pattern: p.pattern, specials: p.specials };
}
