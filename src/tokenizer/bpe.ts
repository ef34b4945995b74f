// Byte-level BPE encoder/decoder with tiktoken semantics: split the text into chunks, then inside each
// chunk repeatedly merge the adjacent pair of parts whose concatenation has the lowest rank. The same
// ranks give the same ids as tiktoken (tested against it with GPT-2 and GPT-4/cl100k ranks).

import { SPECIAL_TOKENS, type SpecialToken, type TextTokenizer } from './types.js';
import { wellFormed, type PatternName } from './pattern.js';
import { Scanner } from './scanner.js';
import { ChunkCache } from './chunk-cache.js';

/** Everything that defines a tokenizer: token bytes by id (the rank), the split pattern, specials. */
export interface BpeSpec {
  name: string;
  /** tokens[id] = the token's bytes; ids are ranks (lower merges first); holes are undefined */
  tokens: (Uint8Array | undefined)[];
  pattern: PatternName;
  /** special token text -> id (ids above the ranks) */
  specials: Record<string, number>;
}

/** Bytes as a JS string with one char per byte (0..255): a cheap, hashable Map key. */
function bytesKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

const utf8 = new TextEncoder();
/** ignoreBOM: a leading U+FEFF is text like any other (the default decoder would drop it) */
const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });


export class BpeTokenizer implements TextTokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly pattern: PatternName;
  readonly tokens: (Uint8Array | undefined)[];
  readonly specials: ReadonlyMap<string, number>;
  private readonly scanner: Scanner;
  private readonly rankOf = new Map<string, number>();
  /** chunk text -> its ids (200k chunks, ~20 MB, then it starts over) */
  private readonly cache = new ChunkCache(200_000);
  /** output buffer of encodeIds, reused across calls (fresh memory is slow to fault in) */
  private scratch = new Uint32Array(1 << 16);
  private readonly specialById = new Map<number, string>();
  private specialRe: RegExp | undefined;
  private tokenBytesCache: Int32Array | undefined;

  constructor(spec: BpeSpec) {
    this.name = spec.name;
    this.tokens = spec.tokens;
    this.pattern = spec.pattern;
    this.scanner = new Scanner(spec.pattern === 'cl100k' ? 3 : 2, spec.pattern === 'gpt2');
    for (let id = 0; id < spec.tokens.length; id++) {
      const t = spec.tokens[id];
      if (t) this.rankOf.set(bytesKey(t), id);
    }
    this.specials = new Map(Object.entries(spec.specials));
    let maxId = spec.tokens.length - 1;
    for (const [text, id] of this.specials) {
      this.specialById.set(id, text);
      maxId = Math.max(maxId, id);
    }
    this.vocabSize = maxId + 1;
  }

  /** Forget cached chunk encodings (benchmarks measure a cold cache). */
  clearCache(): void {
    this.cache.clear();
  }

  /** Plain-text encoding: special-token spellings in the text are encoded as ordinary text. */
  encode(text: string): number[] {
    const out: number[] = [];
    this.encodeInto(text, out);
    return out;
  }

  /** Append the ids of `text` to `out` (no specials). */
  encodeInto(text: string, out: number[]): void {
    const s = wellFormed(text);
    const n = s.length;
    const scanner = this.scanner;
    for (let i = 0; i < n; ) {
      const j = scanner.next(s, i);
      this.cache.emit(this.chunkEntry(s, i, j), out);
      i = j;
    }
  }

  /**
   * Plain-text encoding into a typed array (the fast path for large inputs: no per-id array growth;
   * ids are written to a reusable scratch buffer and copied out once).
   */
  encodeIds(text: string): Uint32Array {
    const s = wellFormed(text);
    const n = s.length;
    const scanner = this.scanner;
    const cache = this.cache;
    let buf = this.scratch;
    let o = 0;
    for (let i = 0; i < n; ) {
      const j = scanner.next(s, i);
      const e = this.chunkEntry(s, i, j);
      if (o + cache.count(e) > buf.length) {
        const bigger = new Uint32Array(Math.max(buf.length * 2, o + cache.count(e)));
        bigger.set(buf.subarray(0, o));
        this.scratch = buf = bigger;
      }
      o = cache.write(e, buf, o);
      i = j;
    }
    return buf.slice(0, o);
  }

  /**
   * Encoding for rendering conversations: the spellings of this tokenizer's special tokens become
   * their ids (`allowed` limits which ones); everything else is plain text.
   */
  encodeWithSpecials(text: string, allowed: Iterable<string> = this.specials.keys()): number[] {
    const names = [...allowed].filter((s) => this.specials.has(s));
    if (names.length === 0) return this.encode(text);
    const re = names.length === this.specials.size && this.specialRe ? this.specialRe : specialRegex(names);
    if (names.length === this.specials.size) this.specialRe = re;
    const out: number[] = [];
    let last = 0;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) this.encodeInto(text.slice(last, m.index), out);
      out.push(this.specials.get(m[0])!);
      last = m.index + m[0].length;
    }
    if (last < text.length) this.encodeInto(text.slice(last), out);
    return out;
  }

  /** The cache entry of the chunk s[i, j), encoded and added on a miss. */
  private chunkEntry(s: string, i: number, j: number): number {
    const h = ChunkCache.hash(s, i, j);
    const e = this.cache.find(s, i, j, h);
    if (e >= 0) return e;
    const chunk = s.slice(i, j);
    return this.cache.add(chunk, h, this.encodeChunk(chunk));
  }

  /** The ids of one chunk: the whole chunk if it is a token, else rank-ordered merging of its bytes. */
  private encodeChunk(chunk: string): number[] {
    let key = chunk;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk.charCodeAt(i) >= 0x80) {
        key = bytesKey(utf8.encode(chunk));
        break;
      }
    }
    const whole = this.rankOf.get(key);
    if (whole !== undefined) return [whole];
    return this.mergeBytes(key);
  }

  /**
   * tiktoken's byte_pair_merge: `starts` are the part boundaries; `rank[i]` the rank of parts i and
   * i+1 joined (Infinity if not a token). Merge the lowest rank (leftmost on ties) until none is left.
   * Quadratic in the chunk length, like the reference; chunks are short (a word, a number group).
   */
  private mergeBytes(key: string): number[] {
    const n = key.length;
    const starts: number[] = [];
    for (let i = 0; i <= n; i++) starts.push(i);
    const rank: number[] = [];
    const pairRank = (i: number): number => {
      if (i + 2 >= starts.length) return Infinity;
      return this.rankOf.get(key.slice(starts[i], starts[i + 2])) ?? Infinity;
    };
    for (let i = 0; i < n - 1; i++) rank.push(pairRank(i));
    for (;;) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i < rank.length; i++) {
        if (rank[i] < best) {
          best = rank[i];
          at = i;
        }
      }
      if (at < 0) break;
      starts.splice(at + 1, 1);
      rank.splice(at, 1);
      if (at < rank.length) rank[at] = pairRank(at);
      if (at > 0) rank[at - 1] = pairRank(at - 1);
    }
    const ids: number[] = [];
    for (let i = 0; i + 1 < starts.length; i++) {
      const id = this.rankOf.get(key.slice(starts[i], starts[i + 1]));
      if (id === undefined) throw new Error(`tokenizer ${this.name} has no token for byte ${key.charCodeAt(starts[i])}`);
      ids.push(id);
    }
    return ids;
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let len = 0;
    for (let i = 0; i < ids.length; i++) len += this.bytesOf(ids[i]).length;
    const out = new Uint8Array(len);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.bytesOf(ids[i]);
      out.set(b, o);
      o += b.length;
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    return UTF8.decode(this.decodeBytes(ids));
  }

  /** The bytes of one id (a special token decodes to its spelling). */
  bytesOf(id: number): Uint8Array {
    const t = this.tokens[id];
    if (t) return t;
    const s = this.specialById.get(id);
    if (s !== undefined) return utf8.encode(s);
    throw new RangeError(`token id ${id} is not in tokenizer ${this.name} (vocab ${this.vocabSize})`);
  }

  isSpecial(id: number): boolean {
    return this.specialById.has(id);
  }

  specialId(name: SpecialToken | string): number {
    const id = this.specials.get(name);
    if (id !== undefined) return id;
    // tiktoken's public vocabularies have no <|bos|>: they delimit documents with <|endoftext|>
    if (name === '<|bos|>' && this.specials.has('<|endoftext|>')) return this.specials.get('<|endoftext|>')!;
    throw new Error(`tokenizer ${this.name} has no special token ${name}`);
  }

  bosId(): number {
    return this.specialId('<|bos|>');
  }

  tokenBytes(): Int32Array {
    if (!this.tokenBytesCache) {
      const tb = new Int32Array(this.vocabSize);
      for (let id = 0; id < this.tokens.length; id++) tb[id] = this.tokens[id]?.length ?? 0;
      this.tokenBytesCache = tb;
    }
    return this.tokenBytesCache;
  }

  /** Ids in rank order with their bytes (the tiktoken ranks file). */
  *ranks(): Generator<[Uint8Array, number]> {
    for (let id = 0; id < this.tokens.length; id++) {
      const t = this.tokens[id];
      if (t) yield [t, id];
    }
  }
}

function specialRegex(names: string[]): RegExp {
  // longest first so a spelling that prefixes another never wins
  const alts = [...names].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(alts.join('|'), 'g');
}

/** Our 9 specials after `numRanks` ranked tokens (ids V-9 .. V-1). */
export function ourSpecials(numRanks: number): Record<string, number> {
  return Object.fromEntries(SPECIAL_TOKENS.map((s, i) => [s, numRanks + i]));
}
