// Step 1 of BPE training: count the unique chunks of the training text. Memory grows with the number
// of unique chunks (a few million for 100M characters), never with the text, which is streamed.
// Uses worker threads (one per core): the main thread reads and batches documents, workers split
// and count their batches, and the per-worker Maps are summed at the end. Sums do not depend on
// which worker saw which document, so the result is deterministic.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { Splitter, type PatternName } from './pattern.js';

export interface CountOptions {
  pattern: PatternName;
  /** worker threads; 0 counts on the main thread */
  threads?: number;
  /** characters per batch sent to a worker (1M: big enough to amortize messaging, small for balance) */
  batchChars?: number;
  onBatch?: (charsDone: number) => void;
}

export function defaultThreads(): number {
  const env = Number(process.env.NANOCHAT_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

export async function countChunks(docs: AsyncIterable<string> | Iterable<string>, opts: CountOptions): Promise<Map<string, number>> {
  const threads = opts.threads ?? defaultThreads();
  if (threads <= 1) return countHere(docs, opts);
  const batchChars = opts.batchChars ?? 1_000_000;
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./count-worker.js', import.meta.url), { workerData: { pattern: opts.pattern } }));
  // Each worker holds at most 2 batches (one working, one queued) so reading never runs far ahead.
  const inFlight = workers.map(() => 0);
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  let charsDone = 0;
  const queuedChars = new Map<Worker, number[]>();
  for (const w of workers) {
    queuedChars.set(w, []);
    w.on('error', (e) => {
      failed = e;
      wake?.();
    });
  }
  workers.forEach((w, i) =>
    w.on('message', (m: { done?: number }) => {
      if (m.done !== undefined) {
        inFlight[i]--;
        charsDone += queuedChars.get(w)!.shift()!;
        opts.onBatch?.(charsDone);
        wake?.();
      }
    }),
  );
  const send = async (batch: string[], chars: number): Promise<void> => {
    for (;;) {
      if (failed) throw failed;
      let best = 0;
      for (let i = 1; i < workers.length; i++) if (inFlight[i] < inFlight[best]) best = i;
      if (inFlight[best] < 2) {
        inFlight[best]++;
        queuedChars.get(workers[best])!.push(chars);
        workers[best].postMessage({ docs: batch });
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  };
  try {
    let batch: string[] = [];
    let chars = 0;
    for await (const d of docs) {
      batch.push(d);
      chars += d.length;
      if (chars >= batchChars) {
        await send(batch, chars);
        batch = [];
        chars = 0;
      }
    }
    if (batch.length) await send(batch, chars);
    const parts = await Promise.all(
      workers.map(
        (w) =>
          new Promise<{ keys: string[]; values: number[] }>((resolve, reject) => {
            w.on('message', (m: { keys?: string[]; values?: number[] }) => m.keys && resolve(m as { keys: string[]; values: number[] }));
            w.on('error', reject);
            w.postMessage({ finish: true });
          }),
      ),
    );
    // Sum into the largest map (fewest insertions).
    parts.sort((a, b) => b.keys.length - a.keys.length);
    const total = new Map<string, number>();
    const first = parts[0];
    for (let i = 0; i < first.keys.length; i++) total.set(first.keys[i], first.values[i]);
    for (const p of parts.slice(1)) for (let i = 0; i < p.keys.length; i++) total.set(p.keys[i], (total.get(p.keys[i]) ?? 0) + p.values[i]);
    return total;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function countHere(docs: AsyncIterable<string> | Iterable<string>, opts: CountOptions): Promise<Map<string, number>> {
  const splitter = new Splitter(opts.pattern);
  const counts = new Map<string, number>();
  const bump = (c: string): void => {
    counts.set(c, (counts.get(c) ?? 0) + 1);
  };
  let chars = 0;
  for await (const d of docs) {
    splitter.forEach(d, bump);
    chars += d.length;
    opts.onBatch?.(chars);
  }
  return counts;
}
