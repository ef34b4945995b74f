// Encoding on several cores: a pool of worker threads, each with its own copy of the tokenizer (and
// chunk cache). Batches of documents are spread over the workers; one large text is first cut at
// positions where splitting it cannot change the chunks (pattern.ts `safeCuts`), so the ids are
// exactly those of encoding it whole.

import { Worker } from 'node:worker_threads';
import { BpeTokenizer } from './bpe.js';
import { packSpec } from './packed-spec.js';
import { safeCuts } from './pattern.js';
import { defaultThreads } from './chunk-count.js';

export class EncodePool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (v: Uint32Array[]) => void; reject: (e: Error) => void }>();
  private nextJob = 0;
  private rr = 0;

  constructor(tok: BpeTokenizer, readonly threads = defaultThreads()) {
    const spec = packSpec(tok);
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(new URL('./encode-worker.js', import.meta.url), { workerData: spec });
      w.on('message', (m: { job: number; out: Uint32Array[] }) => {
        this.pending.get(m.job)?.resolve(m.out);
        this.pending.delete(m.job);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      return w;
    });
  }

  private send(texts: string[], w = this.workers[this.rr++ % this.workers.length], clearCache = false): Promise<Uint32Array[]> {
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      this.pending.set(job, { resolve, reject });
      w.postMessage({ job, texts, clearCache });
    });
  }

  /** Wait until every worker has built its tokenizer (optionally emptying their chunk caches, for benchmarks). */
  async ready(clearCache = false): Promise<void> {
    await Promise.all(this.workers.map((w) => this.send([], w, clearCache)));
  }

  /** Encode many documents (plain text, no specials); results in input order. */
  async encodeBatch(texts: string[]): Promise<Uint32Array[]> {
    // contiguous groups of about equal characters, several per worker for balance
    const groups = this.workers.length * 4;
    let total = 0;
    for (const t of texts) total += t.length;
    const target = Math.max(1, Math.ceil(total / groups));
    const batches: string[][] = [];
    let cur: string[] = [];
    let chars = 0;
    for (const t of texts) {
      cur.push(t);
      chars += t.length;
      if (chars >= target) {
        batches.push(cur);
        cur = [];
        chars = 0;
      }
    }
    if (cur.length) batches.push(cur);
    const results = await Promise.all(batches.map((b) => this.send(b)));
    return results.flat();
  }

  /** Encode one large text: cut at safe positions, encode the parts in parallel, concatenate. */
  async encodeLarge(text: string): Promise<Uint32Array> {
    const cuts = safeCuts(text, this.workers.length * 4);
    const parts: string[] = [];
    let last = 0;
    for (const c of [...cuts, text.length]) {
      parts.push(text.slice(last, c));
      last = c;
    }
    const outs = await this.encodeBatch(parts);
    const n = outs.reduce((a, o) => a + o.length, 0);
    const ids = new Uint32Array(n);
    let o = 0;
    for (const part of outs) {
      ids.set(part, o);
      o += part.length;
    }
    return ids;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
