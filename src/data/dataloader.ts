// The pretraining dataloader (SPEC section 5): BOS-aligned rows filled best-fit.
//
// Every row of a batch holds T+1 tokens (inputs are the first T, targets the last T) and starts with
// <|bos|>, because every document does. We keep a buffer of tokenized documents; to fill a row we
// insert the largest document that still fits, and when none fits we crop the shortest to fill the
// row exactly (its remainder is dropped). Compared with plain concatenation no document is split
// across rows, so the model never sees a context that started mid-document without its BOS.
//
// Documents are read interleaved across shards (document 0 of every shard, then document 1, ...),
// because a shard can be one book: reading them one after another would train on one subject at a time.
//
// Position, for exact resumption: the stream order is (epoch, index within shard, shard). Every
// document before `next` was either used or still sits in the buffer, so the state is
// `next` plus the stream positions still buffered; a resumed loader re-reads that span to refill the
// same buffer. Same state, same batches.

import type { TextTokenizer } from '../tokenizer/types.js';
import { readShard } from './shards.js';

export interface DocPos {
  epoch: number;
  shard: number;
  doc: number;
}

export interface LoaderState {
  next: DocPos;
  buffered: DocPos[];
}

interface BufferedDoc {
  pos: DocPos;
  tokens: number[];
}

/**
 * Best-fit choice for a row with `space` tokens left: the largest document that fits, or, when none
 * does, the shortest (the caller crops it to fill the row exactly). The buffer must not be empty.
 */
export function pickBestFit(buffer: readonly { tokens: ArrayLike<number> }[], space: number): number {
  let best = -1;
  for (let i = 0; i < buffer.length; i++) {
    const n = buffer[i].tokens.length;
    if (n <= space && (best === -1 || n > buffer[best].tokens.length)) best = i;
  }
  if (best !== -1) return best;
  best = 0;
  for (let i = 1; i < buffer.length; i++) if (buffer[i].tokens.length < buffer[best].tokens.length) best = i;
  return best;
}

/** stream order: epoch, then document index, then shard (documents are interleaved across shards) */
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

export class BestFitLoader {
  private buffer: BufferedDoc[] = [];
  private next: DocPos = { epoch: 0, shard: 0, doc: 0 };
  /** one open reader per shard and the document index it yields next */
  private readers: (AsyncGenerator<string> | undefined)[] = [];
  private readerDoc: number[] = [];
  /** shards that ran out of documents in the current epoch */
  private done = new Set<number>();
  private restored: LoaderState | null;
  /** wrap around to a new epoch at the end of the last shard (training) or stop (evaluation) */
  private readonly loop: boolean;
  private exhausted = false;
  /** documents kept tokenized and waiting; more choice packs rows tighter (the reference uses ~1000) */
  readonly bufferSize: number;

  constructor(
    private readonly tok: TextTokenizer,
    private readonly files: string[],
    readonly B: number,
    readonly T: number,
    opts: { bufferSize?: number; state?: LoaderState; loop?: boolean } = {},
  ) {
    if (files.length === 0) throw new Error('dataloader: no shard files');
    this.bufferSize = opts.bufferSize ?? 256;
    this.restored = opts.state ?? null;
    this.loop = opts.loop ?? true;
  }

  /** Position to save in a checkpoint (valid between batches). */
  state(): LoaderState {
    return { next: { ...this.next }, buffered: this.buffer.map((d) => ({ ...d.pos })) };
  }

  /**
   * The next batch: inputs and targets [B, T]. A non-looping loader that runs dry returns the rows it
   * could complete (fewer than B, with `B` set), then null.
   */
  async nextBatch(): Promise<{ inputs: Int32Array; targets: Int32Array; B?: number } | null> {
    if (this.restored) await this.restore(this.restored);
    return packRows(this.buffer, this.B, this.T, () => this.fill());
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
        if (!this.loop) {
          this.exhausted = true;
          return null;
        }
        await this.closeReaders();
        this.next = { epoch: this.next.epoch + 1, shard: 0, doc: 0 };
        continue;
      }
      const { shard, doc } = this.next;
      if (!this.done.has(shard)) {
        const reader = await this.readerAt(shard, doc);
        const r = await reader.next();
        if (!r.done) {
          const pos = { ...this.next };
          this.readerDoc[shard] = doc + 1;
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
      reader = readShard(this.files[shard]);
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

  /** Rebuild the buffer of a saved state by re-reading from its earliest buffered document. */
  private async restore(s: LoaderState): Promise<void> {
    this.restored = null;
    this.buffer = [];
    if (s.buffered.length > 0) {
      let start = s.buffered[0];
      for (const p of s.buffered) if (before(p, start)) start = p;
      this.next = { ...start };
      const wanted = new Map(s.buffered.map((p, i) => [`${p.epoch}/${p.shard}/${p.doc}`, i]));
      const docs: BufferedDoc[] = new Array(s.buffered.length);
      while (before(this.next, s.next)) {
        const d = await this.readNext();
        if (!d) break;
        const i = wanted.get(`${d.pos.epoch}/${d.pos.shard}/${d.pos.doc}`);
        if (i !== undefined) docs[i] = d;
      }
      this.buffer = docs.filter(Boolean);
    }
    this.next = { ...s.next };
  }
}
