// HTTP GET for data files: streamed to a file or collected in memory, with bounded retries and
// exponential backoff, and an idle timeout so a stalled connection fails (and is retried)
// instead of hanging forever. Uses Node's built-in fetch.

import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface RetryOptions {
  /** Total tries, first included. */
  attempts: number;
  /** Delay before the 2nd try; doubled each time, capped at maxDelayMs, with +-25% jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Abort an attempt when no byte arrives for this long. */
  idleTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000, idleTimeoutMs: 60_000 };

/** An HTTP answer that is not 200. 5xx and 429 are worth retrying; 404 and the like are not. */
class HttpError extends Error {
  constructor(readonly status: number, readonly url: string) {
    super(`HTTP ${status} for ${url}`);
    this.name = 'HttpError';
  }
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

const isRetryable = (e: unknown): boolean => !(e instanceof HttpError) || e.retryable;

/** fetch() failures say only "fetch failed"; the reason (ENOTFOUND, ECONNRESET, ...) is in `cause`. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${e.message} (${code ? code + ': ' : ''}${cause.message})`;
  }
  return e.message;
}

/** Run `attempt` until it succeeds, a non-retryable error occurs, or the tries run out. */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, opts: RetryOptions, onRetry?: (e: unknown, n: number, delayMs: number) => void): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (n >= opts.attempts || !isRetryable(e)) throw e;
      const delay = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (n - 1)) * (0.75 + 0.5 * Math.random());
      onRetry?.(e, n, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** One GET; resolves to the body as a Node stream. The idle timer aborts the request if bytes stop. */
async function get(url: string, idleTimeoutMs: number): Promise<{ body: Readable; touch: () => void; done: () => void }> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(new Error(`no data for ${idleTimeoutMs / 1000}s from ${url}`)), idleTimeoutMs);
  };
  const done = () => clearTimeout(timer);
  touch();
  let res: Response;
  try {
    res = await fetch(url, { signal: ac.signal, redirect: 'follow' });
  } catch (e) {
    done();
    throw e;
  }
  if (res.status !== 200 || !res.body) {
    done();
    await res.body?.cancel().catch(() => {});
    throw new HttpError(res.status, url);
  }
  return { body: Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), touch, done };
}

/** A pass-through that reports every chunk's size (progress) and keeps the idle timer alive. */
function counter(onBytes: (n: number) => void, touch: () => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      touch();
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

/** One attempt: GET `url` into `file` (created or truncated). */
export async function httpToFile(url: string, file: string, onBytes: (n: number) => void, idleTimeoutMs: number): Promise<void> {
  const { body, touch, done } = await get(url, idleTimeoutMs);
  try {
    await pipeline(body, counter(onBytes, touch), createWriteStream(file));
  } finally {
    done();
  }
}

/** One attempt: GET `url` into memory (for files converted before they are written). */
export async function httpToBuffer(url: string, onBytes: (n: number) => void, idleTimeoutMs: number): Promise<Buffer> {
  const { body, touch, done } = await get(url, idleTimeoutMs);
  const chunks: Buffer[] = [];
  try {
    await pipeline(body, counter(onBytes, touch), async (src: AsyncIterable<Buffer>) => { for await (const c of src) chunks.push(c); });
  } finally {
    done();
  }
  return Buffer.concat(chunks);
}
