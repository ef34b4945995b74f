// The pretraining dataloader (SPEC section 5): BOS-aligned rows filled best-fit.
//
// Every row of a batch holds T+1 tokens (inputs are the first T, targets the last T) and starts with
// <|bos|>, because every document does. We keep a buffer of tokenized documents; to fill a row we
// insert the largest document that still fits, and when none fits we crop the shortest to fill the
// row exactly (its remainder is dropped). Compared with plain concatenation no document is split
// across rows, so the model never sees a context that started mid-document without its BOS.
//
// Position, for exact resumption: documents are read in stream order (epoch, shard, index within
// shard). Every document before `next` was either used or still sits in the buffer, so the state is
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

const before = (a: DocPos, b: DocPos) => a.epoch !== b.epoch ? a.epoch < b.epoch : a.shard !== b.shard ? a.shard < b.shard : a.doc < b.doc;
const same = (a: DocPos, b: DocPos) => a.epoch === b.epoch && a.shard === b.shard && a.doc === b.doc;

export class BestFitLoader {
  private buffer: BufferedDoc[] = [];
  private next: DocPos = { epoch: 0, shard: 0, doc: 0 };
  private reader: AsyncGenerator<string> | null = null;
  private readerPos: DocPos | null = null;
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
    const { B, T } = this;
    const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
    const row: number[] = [];
    for (let b = 0; b < B; b++) {
      row.length = 0;
      while (row.length < T + 1) {
        await this.fill();
        if (this.buffer.length === 0) return b === 0 ? null : { inputs: inputs.slice(0, b * T), targets: targets.slice(0, b * T), B: b };
        const space = T + 1 - row.length;
        const [doc] = this.buffer.splice(pickBestFit(this.buffer, space), 1);
        for (let i = 0; i < Math.min(doc.tokens.length, space); i++) row.push(doc.tokens[i]);
      }
      for (let t = 0; t < T; t++) {
        inputs[b * T + t] = row[t];
        targets[b * T + t] = row[t + 1];
      }
    }
    return { inputs, targets };
  }

  /** Top the buffer up to bufferSize documents from the stream. */
  private async fill(): Promise<void> {
    while (this.buffer.length < this.bufferSize) {
      const doc = await this.readNext();
      if (!doc) return;
      this.buffer.push(doc);
    }
  }

  /** Read the document at `next` and advance; wraps to a new epoch after the last shard (if looping). */
  private async readNext(): Promise<BufferedDoc | null> {
    if (this.exhausted) return null;
    for (let attempts = 0; attempts <= this.files.length; attempts++) {
      if (!this.reader || !this.readerPos || !same(this.readerPos, this.next)) await this.openAt(this.next);
      const r = await this.reader!.next();
      if (!r.done) {
        const pos = { ...this.next };
        this.next.doc++;
        this.readerPos = { ...this.next };
        return { pos, tokens: [this.tok.bosId(), ...this.tok.encode(r.value)] };
      }
      // this shard is finished: move on
      this.next = this.next.shard + 1 < this.files.length
        ? { epoch: this.next.epoch, shard: this.next.shard + 1, doc: 0 }
        : { epoch: this.next.epoch + 1, shard: 0, doc: 0 };
      this.reader = null;
      if (this.next.shard === 0 && !this.loop) {
        this.exhausted = true;
        return null;
      }
    }
    return null;
  }

  /** Open the shard of `pos` and skip to its document index. */
  private async openAt(pos: DocPos): Promise<void> {
    if (this.reader) await this.reader.return(undefined);
    this.reader = readShard(this.files[pos.shard]);
    for (let i = 0; i < pos.doc; i++) {
      const r = await this.reader.next();
      if (r.done) break;
    }
    this.readerPos = { ...pos };
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
