// The pretraining dataloader: every token of every document once per epoch, packed best-fit.
//
// Every row of a batch holds T+1 tokens (inputs are the first T, targets the last T). We keep a buffer
// of tokenized documents, each starting with <|bos|>; to fill a row we insert the largest document
// that still fits, and when none fits we start the oldest in the space left: the tokens that do
// not fit continue at the start of the next row (and the rows after it, for a document longer than a
// row), from where it was cut and without a BOS. So no token is dropped: the rows of one epoch hold
// each token of the set exactly once, the way nanochat's streaming loader uses every token. The
// OpenStax documents (median ~3.9k tokens at vocab 4096) are mostly longer than a row: cropping them,
// as this loader did before, put 5.5% of the corpus's tokens in the rows of an epoch at T = 256 and
// 10% at T = 512 (one row per document, the same openings every epoch); now 100%.
// A continuation row's first token is an input only (the pair across the cut is not trained: 1 in
// T+1 targets of a long document), exactly as the reference loses the pair across each batch boundary.
//
// Documents are read interleaved across shards (document 0 of every shard, then document 1, ...),
// because a shard can be one book: reading them one after another would train on one subject at a time.
//
// Position, for exact resumption: the stream order is (epoch, index within shard, shard). Every
// document before `next` was either used or still sits in the buffer, so the state is `next` plus
// the stream positions still buffered, the cut document among them with the offset it continues
// from; a resumed loader re-reads that span to refill the same buffer. Same state, same batches.
// A state saved before offsets existed has no cut document (offset 0 for every position).
//
// packRows is the plain best-fit packer of in-memory sequences that midtraining uses: it crops the
// shortest sequence to fill a row and drops the rest (conversations are short, and cut ones useless).

import type { TextTokenizer } from '../tokenizer/types.js';
import type { Batch } from './batch.js';
import { readDocSet, readShard, type DocSet } from './shards.js';

export interface DocPos {
  epoch: number;
  shard: number;
  doc: number;
  /** tokens of the document (BOS included) already in rows; absent in older checkpoints: 0 */
  offset?: number;
}

export interface LoaderState {
  next: DocPos;
  /** the documents read but not finished, the cut one (offset > 0) first */
  buffered: DocPos[];
  /** tokens placed in rows since the start of the run (rows x (T+1)); absent in older checkpoints */
  tokens?: number;
}

interface BufferedDoc {
  pos: DocPos;
  tokens: number[];
}

/** The largest document of the buffer that fits in `space` tokens (the first of equals), or -1. */
export function largestFit(buffer: readonly { tokens: ArrayLike<number> }[], space: number): number {
  let best = -1;
  for (let i = 0; i < buffer.length; i++) {
    const n = buffer[i].tokens.length;
    if (n <= space && (best === -1 || n > buffer[best].tokens.length)) best = i;
  }
  return best;
}

/**
 * Best-fit choice for a row with `space` tokens left: the largest document that fits, or, when none
 * does, the shortest (the caller crops it to fill the row exactly). The buffer must not be empty.
 */
export function pickBestFit(buffer: readonly { tokens: ArrayLike<number> }[], space: number): number {
  let best = largestFit(buffer, space);
  if (best !== -1) return best;
  best = 0;
  for (let i = 1; i < buffer.length; i++) if (buffer[i].tokens.length < buffer[best].tokens.length) best = i;
  return best;
}

/**
 * Fill B rows of T+1 tokens best-fit from `buffer` (documents are removed as they are used; `refill`
 * tops it up). Inputs are each row's first T tokens, targets its last T. When the buffer runs dry,
 * returns the rows completed so far (fewer than B, with `B` set), or null if none.
 */
export async function packRows(buffer: { tokens: ArrayLike<number> }[], B: number, T: number, refill: () => Promise<void> | void): Promise<{ inputs: Int32Array; targets: Int32Array; B?: number } | null> {
  const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
  const row: number[] = [];
  for (let b = 0; b < B; b++) {
    row.length = 0;
    while (row.length < T + 1) {
      await refill();
      if (buffer.length === 0) return b === 0 ? null : { inputs: inputs.slice(0, b * T), targets: targets.slice(0, b * T), B: b };
      const space = T + 1 - row.length;
      const [doc] = buffer.splice(pickBestFit(buffer, space), 1);
      for (let i = 0; i < Math.min(doc.tokens.length, space); i++) row.push(doc.tokens[i]);
    }
    for (let t = 0; t < T; t++) {
      inputs[b * T + t] = row[t];
      targets[b * T + t] = row[t + 1];
    }
  }
  return { inputs, targets };
}

const before = (a: DocPos, b: DocPos) => a.epoch !== b.epoch ? a.epoch < b.epoch : a.doc !== b.doc ? a.doc < b.doc : a.shard < b.shard;
const key = (p: DocPos) => `${p.epoch}/${p.shard}/${p.doc}`;

export class BestFitLoader {
  /** whole documents waiting to be placed */
  private buffer: BufferedDoc[] = [];
  /** the document cut at the end of the last row: the next row starts with its remaining tokens */
  private cut: BufferedDoc | null = null;
  private next: DocPos = { epoch: 0, shard: 0, doc: 0 };
  /** tokens placed in rows so far (every row of a training batch holds T+1) */
  private placed = 0;
  /** tokens of one epoch of the set, once counted */
  private perEpoch: number | undefined;
  /** one open reader per shard and the document index it yields next */
  private readers: (AsyncGenerator<string> | undefined)[] = [];
  private readerDoc: number[] = [];
  /** shards that ran out of documents in the current epoch */
  private done = new Set<number>();
  /** whether the current epoch has yielded a document: an epoch without any ends the stream (an empty set) */
  private epochHasDocs = false;
  private restored: LoaderState | null;
  /** wrap around to a new epoch at the end of the last shard (training) or stop (evaluation) */
  private readonly loop: boolean;
  private exhausted = false;
  /** documents kept tokenized and waiting; more choice packs rows tighter (the reference uses ~1000) */
  readonly bufferSize: number;
  private readonly files: string[];

  constructor(
    private readonly tok: TextTokenizer,
    private readonly set: DocSet,
    readonly B: number,
    readonly T: number,
    opts: { bufferSize?: number; state?: LoaderState; loop?: boolean } = {},
  ) {
    if (set.files.length === 0) throw new Error('dataloader: no shard files');
    this.files = set.files;
    this.bufferSize = opts.bufferSize ?? 256;
    this.restored = opts.state ?? null;
    this.loop = opts.loop ?? true;
  }

  /** Position to save in a checkpoint (valid between batches). */
  state(): LoaderState {
    if (this.restored) return structuredClone(this.restored);
    const docs = this.cut ? [this.cut, ...this.buffer] : this.buffer;
    return { next: { ...this.next }, buffered: docs.map((d) => ({ ...d.pos })), tokens: this.placed };
  }

  /**
   * Tokens of one epoch: every document of the set with its BOS. One pass over the shards that
   * tokenizes every document (~3 s for the 18M tokens of pretrain_openstax at vocab 4096), then cached.
   */
  async epochTokens(): Promise<number> {
    if (this.perEpoch === undefined) {
      let n = 0;
      for await (const text of readDocSet(this.set)) n += 1 + this.tok.encode(text).length;
      this.perEpoch = n;
    }
    return this.perEpoch;
  }

  /** Epochs of the set in the rows so far: tokens placed / tokens per epoch (NaN before epochTokens()). */
  epochs(): number {
    const placed = this.restored ? this.restored.tokens ?? 0 : this.placed;
    return this.perEpoch === undefined ? NaN : placed / this.perEpoch;
  }

  /**
   * The next batch: inputs and targets [B, T]. A non-looping loader that runs dry returns the rows it
   * has, `B` set to their number: the last one holds the final tokens of the stream, padded with
   * targets of -1 (so an evaluation scores every token); then null.
   */
  async nextBatch(): Promise<Batch | null> {
    if (this.restored) await this.restore(this.restored);
    const { B, T } = this;
    const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
    const first = (rows: number) => ({ inputs: inputs.slice(0, rows * T), targets: targets.slice(0, rows * T), B: rows });
    for (let b = 0; b < B; b++) {
      const row = await this.nextRow();
      if (row.length === 0) return b === 0 ? null : first(b);
      for (let t = 0; t < T; t++) {
        inputs[b * T + t] = t < row.length ? row[t] : this.tok.bosId();
        targets[b * T + t] = t + 1 < row.length ? row[t + 1] : -1;
      }
      if (row.length < T + 1) return first(b + 1);
    }
    return { inputs, targets };
  }

  /** T+1 tokens: the rest of the cut document, then documents best-fit (fewer only at the end of the stream). */
  private async nextRow(): Promise<number[]> {
    const row: number[] = [];
    const size = this.T + 1;
    if (this.cut) this.place(this.cut, row);
    while (row.length < size) {
      await this.fill();
      if (this.buffer.length === 0) break;
      // none fits: start the oldest (the buffer is in stream order). Nothing of it is lost, so there is
      // no reason to prefer the shortest, as cropping did; and preferring it would keep the longest
      // documents waiting in the buffer for ever
      const fit = largestFit(this.buffer, size - row.length);
      const [doc] = this.buffer.splice(fit === -1 ? 0 : fit, 1);
      this.place(doc, row);
    }
    this.placed += row.length;
    return row;
  }

  /** Put as much of the document as fits; what does not fit makes it the cut document. */
  private place(doc: BufferedDoc, row: number[]): void {
    const from = doc.pos.offset ?? 0;
    const n = Math.min(doc.tokens.length - from, this.T + 1 - row.length);
    for (let i = from; i < from + n; i++) row.push(doc.tokens[i]);
    if (from + n < doc.tokens.length) {
      doc.pos.offset = from + n;
      this.cut = doc;
    } else if (this.cut === doc) {
      this.cut = null;
    }
  }

  /** Top the buffer up to bufferSize documents from the stream. */
  private async fill(): Promise<void> {
    while (this.buffer.length < this.bufferSize) {
      const doc = await this.readNext();
      if (!doc) return;
      this.buffer.push(doc);
    }
  }

  /**
   * Read the document at `next` and advance. Documents are interleaved across shards (doc 0 of every
   * shard, then doc 1 of every shard, ...), so a batch mixes sources even when each shard is one
   * book; a shard that runs out is skipped, and when all have run out a new epoch starts (if looping).
   */
  private async readNext(): Promise<BufferedDoc | null> {
    while (!this.exhausted) {
      if (this.done.size === this.files.length) {
        if (!this.loop || !this.epochHasDocs) {
          this.exhausted = true;
          return null;
        }
        await this.closeReaders();
        this.next = { epoch: this.next.epoch + 1, shard: 0, doc: 0 };
        this.epochHasDocs = false;
        continue;
      }
      const { shard, doc } = this.next;
      if (!this.done.has(shard)) {
        const reader = await this.readerAt(shard, doc);
        const r = await reader.next();
        if (!r.done) {
          const pos = { ...this.next };
          this.readerDoc[shard] = doc + 1;
          this.epochHasDocs = true;
          this.advance();
          return { pos, tokens: [this.tok.bosId(), ...this.tok.encode(r.value)] };
        }
        this.done.add(shard);
      }
      this.advance();
    }
    return null;
  }

  /** Next position in stream order: the next shard, then the next document index. */
  private advance(): void {
    this.next = this.next.shard + 1 < this.files.length
      ? { epoch: this.next.epoch, shard: this.next.shard + 1, doc: this.next.doc }
      : { epoch: this.next.epoch, shard: 0, doc: this.next.doc + 1 };
  }

  /** The reader of a shard, positioned at document `doc` (opened and skipped forward if needed). */
  private async readerAt(shard: number, doc: number): Promise<AsyncGenerator<string>> {
    let reader = this.readers[shard];
    if (!reader || this.readerDoc[shard] !== doc) {
      if (reader) await reader.return(undefined);
      reader = readShard(this.files[shard], this.set.docs);
      for (let i = 0; i < doc; i++) if ((await reader.next()).done) break;
      this.readers[shard] = reader;
      this.readerDoc[shard] = doc;
    }
    return reader;
  }

  private async closeReaders(): Promise<void> {
    for (const r of this.readers) if (r) await r.return(undefined);
    this.readers = [];
    this.readerDoc = [];
    this.done.clear();
  }

  /** Rebuild the buffer and the cut document of a saved state by re-reading from its earliest document. */
  private async restore(s: LoaderState): Promise<void> {
    this.restored = null;
    this.buffer = [];
    this.cut = null;
    this.placed = s.tokens ?? 0;
    if (s.buffered.length > 0) {
      let start = s.buffered[0];
      for (const p of s.buffered) if (before(p, start)) start = p;
      this.next = { epoch: start.epoch, shard: start.shard, doc: start.doc };
      const wanted = new Map(s.buffered.map((p, i) => [key(p), i]));
      const docs: BufferedDoc[] = new Array(s.buffered.length);
      while (before(this.next, s.next)) {
        const d = await this.readNext();
        if (!d) break;
        const i = wanted.get(key(d.pos));
        if (i !== undefined) docs[i] = d;
      }
      s.buffered.forEach((p, i) => {
        const d = docs[i];
        if (!d) return;
        if ((p.offset ?? 0) > 0) {
          d.pos.offset = p.offset;
          this.cut = d;
        } else {
          this.buffer.push(d);
        }
      });
    }
    this.next = { epoch: s.next.epoch, shard: s.next.shard, doc: s.next.doc };
    // documents read earlier in this epoch are not in the state, but a state with any position or
    // token in it comes from a set that has documents (an empty set never places a token)
    this.epochHasDocs = s.next.epoch > 0 || s.buffered.length > 0 || (s.tokens ?? 0) > 0;
  }
}
