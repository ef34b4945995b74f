// Request validation for every generation endpoint, with the limits of nanochat's chat server.
//
// Limits (HTTP 400 with a JSON error naming the field when broken):
//   at most 500 messages, 8000 characters per message, 32000 characters in total,
//   temperature 0..2, top_k 1..200, max_tokens 1..4096.
// Roles: system, user, assistant (OpenAI's "developer" is accepted as a system message). Content is
// a string or OpenAI's list of {type: "text", text} parts. The conversation must end with a user
// message (the model answers it). Unknown fields are ignored, as OpenAI-compatible servers do, so
// clients that send extras (presence_penalty, user, ...) keep working.

import type { Message } from '../chat/conversation.js';

export const LIMITS = {
  maxMessages: 500,
  maxMessageChars: 8000,
  maxTotalChars: 32000,
  temperature: [0, 2],
  topK: [1, 200],
  maxTokens: [1, 4096],
  /** request bodies above this are refused before parsing (32000 characters of 4-byte UTF-8 plus JSON overhead fit) */
  maxBodyBytes: 1 << 20,
} as const;

/** A client error: HTTP status, message, and the offending field (OpenAI's `param`). */
export class RequestError extends Error {
  constructor(readonly status: number, message: string, readonly param: string | null = null, readonly type = 'invalid_request_error') {
    super(message);
    this.name = 'RequestError';
  }
}

export interface SamplingParams {
  temperature: number;
  topK: number;
  maxTokens: number;
  seed?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body must be a JSON object. */
export function parseBody(raw: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    throw new RequestError(400, `the request body is not valid JSON (${(e as Error).message})`, 'body');
  }
  if (!isObject(body)) throw new RequestError(400, 'the request body must be a JSON object', 'body');
  return body;
}

function numberField(body: Record<string, unknown>, name: string, range: readonly [number, number], def: number, integer: boolean): number {
  const v = body[name];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RequestError(400, `'${name}' must be a number, got ${JSON.stringify(v)}`, name);
  if (integer && !Number.isInteger(v)) throw new RequestError(400, `'${name}' must be an integer, got ${v}`, name);
  if (v < range[0] || v > range[1]) throw new RequestError(400, `'${name}' must be between ${range[0]} and ${range[1]}, got ${v}`, name);
  return v;
}

/**
 * temperature, top_k, max_tokens (OpenAI's newer max_completion_tokens too), seed.
 * Defaults: the reference web UI's temperature 0.8 / top_k 50 and 512 new tokens, or the caller's.
 */
export function samplingParams(body: Record<string, unknown>, defaults: { temperature: number; topK: number; maxTokens: number }): SamplingParams {
  const temperature = numberField(body, 'temperature', LIMITS.temperature, defaults.temperature, false);
  const topK = numberField(body, 'top_k', LIMITS.topK, defaults.topK, true);
  const maxName = body.max_tokens === undefined && body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = numberField(body, maxName, LIMITS.maxTokens, defaults.maxTokens, true);
  let seed: number | undefined;
  if (body.seed !== undefined && body.seed !== null) {
    if (typeof body.seed !== 'number' || !Number.isInteger(body.seed)) throw new RequestError(400, `'seed' must be an integer, got ${JSON.stringify(body.seed)}`, 'seed');
    seed = body.seed;
  }
  return { temperature, topK, maxTokens, seed };
}

/** Only one choice per request: the page and the OpenAI clients' default. */
export function checkN(body: Record<string, unknown>): void {
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw new RequestError(400, `'n' must be 1 (one choice per request), got ${JSON.stringify(body.n)}`, 'n');
}

export function streamFlag(body: Record<string, unknown>): boolean {
  const v = body.stream;
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new RequestError(400, `'stream' must be true or false, got ${JSON.stringify(v)}`, 'stream');
  return v;
}

/** Validate `messages` and return them as the chat format's messages (system folding happens in rendering). */
export function validateMessages(body: Record<string, unknown>): Message[] {
  const given = body.messages;
  if (given === undefined) throw new RequestError(400, "'messages' is required: a list of {role, content}", 'messages');
  if (!Array.isArray(given)) throw new RequestError(400, "'messages' must be a list of {role, content}", 'messages');
  if (given.length === 0) throw new RequestError(400, "'messages' must contain at least one message", 'messages');
  if (given.length > LIMITS.maxMessages) throw new RequestError(400, `'messages' has ${given.length} messages; the limit is ${LIMITS.maxMessages}`, 'messages');
  let total = 0;
  const out: Message[] = [];
  given.forEach((m: unknown, i) => {
    const where = `messages[${i}]`;
    if (!isObject(m)) throw new RequestError(400, `'${where}' must be an object with role and content`, where);
    const role = m.role === 'developer' ? 'system' : m.role;
    if (role !== 'system' && role !== 'user' && role !== 'assistant') {
      throw new RequestError(400, `'${where}.role' must be one of system, user, assistant; got ${JSON.stringify(m.role)}`, `${where}.role`);
    }
    const content = contentString(m.content, `${where}.content`);
    if (content.length > LIMITS.maxMessageChars) {
      throw new RequestError(400, `'${where}.content' has ${content.length} characters; the limit is ${LIMITS.maxMessageChars}`, `${where}.content`);
    }
    total += content.length;
    out.push({ role, content });
  });
  if (total > LIMITS.maxTotalChars) throw new RequestError(400, `'messages' have ${total} characters in total; the limit is ${LIMITS.maxTotalChars}`, 'messages');
  if (out[out.length - 1].role !== 'user') throw new RequestError(400, `the last message must be from the user (got '${out[out.length - 1].role}')`, `messages[${out.length - 1}].role`);
  return out;
}

/** A string, or OpenAI's content parts of type text (joined). Lengths count UTF-16 code units, as JS strings do. */
function contentString(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    let s = '';
    v.forEach((p: unknown, j) => {
      if (!isObject(p) || p.type !== 'text' || typeof p.text !== 'string') {
        throw new RequestError(400, `'${where}[${j}]' must be {"type": "text", "text": string} (only text is supported)`, `${where}[${j}]`);
      }
      s += p.text;
    });
    return s;
  }
  throw new RequestError(400, `'${where}' must be a string, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`, where);
}

/** /v1/completions' prompt: a string (or a list holding one string), within the per-message limit. */
export function validatePrompt(body: Record<string, unknown>): string {
  let p = body.prompt;
  if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') p = p[0];
  if (typeof p !== 'string') throw new RequestError(400, `'prompt' must be a string, got ${p === undefined ? 'nothing' : JSON.stringify(p)}`, 'prompt');
  if (p.length > LIMITS.maxMessageChars) throw new RequestError(400, `'prompt' has ${p.length} characters; the limit is ${LIMITS.maxMessageChars}`, 'prompt');
  return p;
}
