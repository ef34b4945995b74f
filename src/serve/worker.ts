// A model replica in a worker thread: loads the checkpoint once, then runs one job at a time and
// streams its text back to the HTTP thread (protocol.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { ConversationError } from '../chat/render.js';
import { ContextError, type FinishReason } from '../engine/engine.js';
import { loadEngine } from '../engine/load.js';
import { chatPrompt, completionPrompt } from '../engine/prompt.js';
import type { JobRequest, WorkerConfig, WorkerEvent } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('serve/worker.ts runs inside a worker thread');
const post = (e: WorkerEvent) => port.postMessage(e);

const cfg = workerData as WorkerConfig;
let loaded: ReturnType<typeof loadEngine>;
try {
  loaded = loadEngine(cfg.source, { tag: cfg.tag, step: cfg.step });
  const m = loaded.engine.model as unknown as { numParams?: () => number; config: { nLayer?: number; nEmbd?: number } };
  post({
    type: 'ready', modelId: loaded.modelId, chat: loaded.chat, contextLength: loaded.engine.contextLength, vocabSize: loaded.engine.tok.vocabSize,
    nLayer: m.config.nLayer ?? 0, nEmbd: m.config.nEmbd ?? 0, numParams: m.numParams ? m.numParams() : 0,
  });
} catch (e) {
  post({ type: 'fatal', message: (e as Error).message });
  process.exit(1);
}

port.on('message', (job: JobRequest) => {
  if (job.type === 'job') runJob(job);
});

function runJob(job: JobRequest): void {
  const { engine, chat } = loaded;
  const cancel = new Int32Array(job.cancel);
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
  post({ type: 'start', id: job.id, promptTokens: prompt.length });
  let count = 0;
  let finish: FinishReason | 'cancelled' = 'length';
  try {
    for (const chunk of engine.streamText(prompt, { temperature: job.temperature, topK: job.topK, maxTokens: job.maxTokens, seed: job.seed })) {
      if (Atomics.load(cancel, 0)) { finish = 'cancelled'; break; }
      count++;
      if (chunk.text) post({ type: 'token', id: job.id, text: chunk.text });
      if (chunk.finish) finish = chunk.finish;
      if (cfg.tokenDelayMs > 0 && !chunk.finish) Atomics.wait(cancel, 0, 0, cfg.tokenDelayMs); // wakes at once on cancel
      if (Atomics.load(cancel, 0)) { finish = 'cancelled'; break; }
    }
  } catch (e) {
    post({ type: 'error', id: job.id, status: 500, message: `generation failed: ${(e as Error).message}`, param: null });
    return;
  }
  post({ type: 'done', id: job.id, finish, promptTokens: prompt.length, completionTokens: count });
}
