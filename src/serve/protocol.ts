// Messages between the HTTP thread and the model workers (worker_threads).
//
// The main thread only does HTTP; each worker loads its own model replica and decodes up to `batch`
// generations at a time, together (continuous batching). Cancellation uses a shared Int32Array per job: the worker's decode loop is synchronous
// (it cannot read messages mid-generation), so it checks the flag between tokens, and a disconnect
// frees the worker within one decode step.

import type { Message } from '../chat/conversation.js';
import type { FinishReason } from '../engine/engine.js';

export interface WorkerConfig {
  source: string;
  tag?: string;
  step?: number;
  /** most jobs a worker decodes together (continuous batching); 1 = one at a time */
  batch: number;
  /** test/demo throttle: wait this long after every decode step (cancellable); 0 in normal use */
  tokenDelayMs: number;
  /** weight storage (--dtype): bf16 converts the model after loading */
  dtype?: 'bf16' | 'f32';
}

/** What to generate. chat: render `messages` (chat format, or plain text for a base model); completion: bos + text */
export interface JobSpec {
  kind: 'chat' | 'completion';
  messages?: Message[];
  text?: string;
  temperature: number;
  topK: number;
  maxTokens: number;
  seed: number;
}

export interface JobRequest extends JobSpec {
  type: 'job';
  id: number;
  /** Int32Array(1) over a SharedArrayBuffer: set to 1 to cancel */
  cancel: SharedArrayBuffer;
}

export type WorkerEvent =
  | { type: 'ready'; modelId: string; chat: boolean; contextLength: number; vocabSize: number; nLayer: number; nEmbd: number; numParams: number }
  | { type: 'fatal'; message: string }
  | { type: 'start'; id: number; promptTokens: number }
  | { type: 'token'; id: number; text: string }
  | { type: 'done'; id: number; finish: FinishReason | 'cancelled'; promptTokens: number; completionTokens: number }
  | { type: 'error'; id: number; status: number; message: string; param: string | null };
