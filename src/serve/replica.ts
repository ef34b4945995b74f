// One model replica: loads the checkpoint once, then decodes up to `batch` jobs at a time together and reports
// their text through `post` (protocol.ts). It runs in a worker thread (worker.ts, the CPU backends: one replica a
// core) or in the HTTP thread itself (the webgpu backend: Dawn opens its device only on the main thread, and the
// GPU computes while the thread awaits its reads, so HTTP stays responsive).

import { ConversationError } from '../chat/render.js';
import { ContextError, type FinishReason } from '../engine/engine.js';
import { loadEngine } from '../engine/load.js';
import { DecodeBatch, type DecodeStream, type StreamEvent } from '../engine/decode-batch.js';
import { chatPrompt, completionPrompt } from '../engine/prompt.js';
import type { JobRequest, WorkerConfig, WorkerEvent } from './protocol.js';

/** Atomics.waitAsync (Node 16+; in TypeScript's lib from ES2024, newer than this project's target) */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

export interface Replica {
  /** queue a job; its events arrive through `post` */
  submit(job: JobRequest): void;
}

/** Load the model (posting 'ready', or 'fatal' and throwing when it cannot) and return the replica. */
export function startReplica(cfg: WorkerConfig, post: (e: WorkerEvent) => void): Replica {
  let loaded: ReturnType<typeof loadEngine>;
  try {
    loaded = loadEngine(cfg);
    const m = loaded.engine.model as unknown as { numParams?: () => number; config: { nLayer?: number; nEmbd?: number } };
    post({
      type: 'ready', modelId: loaded.modelId, chat: loaded.chat, contextLength: loaded.engine.contextLength,
      vocabSize: loaded.engine.tok.vocabSize, nLayer: m.config.nLayer ?? 0, nEmbd: m.config.nEmbd ?? 0,
      numParams: m.numParams ? m.numParams() : 0,
    });
  } catch (e) {
    post({ type: 'fatal', message: (e as Error).message });
    throw e;
  }

  // Continuous batching: up to cfg.batch jobs decode together, one batched forward per step
  // (src/engine/decode-batch.ts). A new job is prefilled between steps and joins the batch; a finished
  // or cancelled one leaves it. The loop yields to the event loop after every step so new jobs arrive.
  // A tick awaits the logits read back (async on a device backend); `scheduled` stays set until it ends,
  // so one tick runs at a time (the forwards share the model's arena) and a job arriving meanwhile waits.
  const batch = new DecodeBatch(loaded.engine);
  const pending: JobRequest[] = [];
  const running = new Map<DecodeStream, { job: JobRequest; cancel: Int32Array; promptTokens: number; count: number }>();
  let scheduled = false;

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void tick());
  }

  async function tick(): Promise<void> {
    try {
      await advance();
    } catch (e) {
      // a bug outside the per-job guards below: fail the running jobs, keep the replica (in the HTTP thread an
      // unhandled rejection would end the server)
      failRunning(`internal error: ${(e as Error).message}`);
    } finally {
      scheduled = false;
    }
    if (running.size > 0 || pending.length > 0) schedule();
  }

  /** End every running job with a 500 and `message`. */
  function failRunning(message: string): void {
    for (const [stream, r] of running) {
      batch.remove(stream);
      post({ type: 'error', id: r.job.id, status: 500, message, param: null });
    }
    running.clear();
  }

  /** Admit waiting jobs, drop cancelled ones, then one decode step over the batch and its tokens sent. */
  async function advance(): Promise<void> {
    while (pending.length > 0 && running.size < cfg.batch) await admit(pending.shift()!);
    for (const [stream, r] of running) {
      if (Atomics.load(r.cancel, 0)) finishJob(stream, 'cancelled');
    }
    if (running.size > 0) {
      let events: StreamEvent[];
      try {
        events = await batch.step();
      } catch (e) {
        failRunning(`generation failed: ${(e as Error).message}`);
        events = [];
      }
      for (const e of events) emit(e);
      await throttle();
    }
  }

  /** Prefill a job and take its first token; a bad prompt is answered with a 400 at once. */
  async function admit(job: JobRequest): Promise<void> {
    const { engine, chat } = loaded;
    let prompt: number[];
    try {
      prompt = job.kind === 'chat' ? chatPrompt(engine.tok, { messages: job.messages ?? [] }, chat) : completionPrompt(engine.tok, job.text ?? '');
      if (engine.room(prompt.length) < 1) {
        throw new ContextError(`the prompt is ${prompt.length} tokens and the model's context is ${engine.contextLength}: shorten the conversation`);
      }
    } catch (e) {
      const param = job.kind === 'chat' ? 'messages' : 'prompt';
      if (e instanceof ConversationError || e instanceof ContextError) post({ type: 'error', id: job.id, status: 400, message: e.message, param });
      else post({ type: 'error', id: job.id, status: 500, message: `internal error: ${(e as Error).message}`, param: null });
      return;
    }
    const cancel = new Int32Array(job.cancel);
    if (Atomics.load(cancel, 0)) {
      post({ type: 'done', id: job.id, finish: 'cancelled', promptTokens: prompt.length, completionTokens: 0 });
      return;
    }
    post({ type: 'start', id: job.id, promptTokens: prompt.length });
    let first: StreamEvent;
    try {
      first = await batch.add(prompt, { temperature: job.temperature, topK: job.topK, maxTokens: job.maxTokens, seed: job.seed });
    } catch (e) {
      post({ type: 'error', id: job.id, status: 500, message: `generation failed: ${(e as Error).message}`, param: null });
      return;
    }
    running.set(first.stream, { job, cancel, promptTokens: prompt.length, count: 0 });
    emit(first);
  }

  /** Send a stream's token; end its job when the stream finished. */
  function emit(e: StreamEvent): void {
    const r = running.get(e.stream);
    if (!r) return;
    r.count++;
    if (e.text) post({ type: 'token', id: r.job.id, text: e.text });
    if (e.finish) finishJob(e.stream, e.finish);
  }

  function finishJob(stream: DecodeStream, finish: FinishReason | 'cancelled'): void {
    const r = running.get(stream);
    if (!r) return;
    running.delete(stream);
    batch.remove(stream);
    post({ type: 'done', id: r.job.id, finish, promptTokens: r.promptTokens, completionTokens: r.count });
  }

  /**
   * The test/demo throttle (--token-delay-ms): pause after each step without blocking the thread (the HTTP thread may
   * be this one); a cancel wakes it at once when one job runs.
   */
  async function throttle(): Promise<void> {
    if (cfg.tokenDelayMs <= 0 || running.size === 0) return;
    const [r] = running.values();
    const waited = waitAsync(r.cancel, 0, 0, cfg.tokenDelayMs);
    if (waited.async) await waited.value;
  }

  return {
    submit(job: JobRequest): void {
      pending.push(job);
      schedule();
    },
  };
}
