// The HTTP server, on node:http. The main thread does HTTP only; generation runs
// in the worker pool, so /health and the page answer while models are busy.
//
//   GET  /                      the chat page (static files from src/serve/page, read at start)
//   GET  /health                status, model, workers and queue
//   GET  /v1/models             OpenAI model list (one model)
//   POST /chat/completions      the reference's stream: `data: {"token": ...}` events then `data: {"done": true}`
//   POST /v1/chat/completions   OpenAI chat completions, streaming (SSE chunks, `data: [DONE]`) or not
//   POST /v1/completions        OpenAI text completions (plain text continuation), streaming or not
//
// Errors are JSON in OpenAI's shape, {"error": {"message", "type", "param", "code"}}: 400 for
// invalid requests (param names the field), 413 for bodies over 1 MiB, 404/405 for unknown routes,
// 429/503 with Retry-After when the queue is full or no worker is ready.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WorkerPool, type JobSpec, type ModelInfo } from './pool.js';
import { LIMITS, RequestError, checkN, parseBody, samplingParams, streamFlag, validateMessages, validatePrompt } from './validate.js';
import { loadPage, type StaticFile } from './static.js';

export interface ServeOptions {
  source: string;
  tag?: string;
  step?: number;
  workers: number;
  /** requests each worker decodes together (continuous batching); 1 = one at a time */
  batch: number;
  /** requests that may wait for a worker; more are refused with 429 */
  maxQueue: number;
  /** per-token throttle (ms) for tests and demos; 0 normally */
  tokenDelayMs?: number;
  /** weight storage (--dtype): bf16 converts the model in every worker after loading */
  dtype?: 'bf16' | 'f32';
  /** run the one replica in this thread, on this thread's backend (webgpu: Dawn opens no device in workers) */
  inThread?: boolean;
  /** sampling defaults when a request does not say */
  defaults?: { temperature: number; topK: number; maxTokens: number };
}

/** Seconds clients are told to wait (Retry-After) when refused for load. */
const RETRY_AFTER_S = 1;
const DEFAULTS = { temperature: 0.8, topK: 50, maxTokens: 512 };

export interface RunningServer {
  server: Server;
  pool: WorkerPool;
  info: ModelInfo;
  url: string;
  close(): Promise<void>;
}

/** Start the workers (waits for the model to load), then listen. */
export async function startServer(opts: ServeOptions, host: string, port: number): Promise<RunningServer> {
  const pool = new WorkerPool({
    source: opts.source, tag: opts.tag, step: opts.step, tokenDelayMs: opts.tokenDelayMs ?? 0, dtype: opts.dtype,
    workers: opts.workers, batch: opts.batch, maxQueue: opts.maxQueue, inThread: opts.inThread,
  });
  let info: ModelInfo;
  try {
    info = await pool.start();
  } catch (e) {
    await pool.close();
    throw e;
  }
  const page = loadPage();
  const app = new App(pool, info, page, opts.defaults ?? DEFAULTS);
  const server = createServer((req, res) => app.handle(req, res));
  // keep-alive sockets would hold close() open; the page and the clients reconnect cheaply
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    server, pool, info,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await pool.close();
    },
  };
}

class App {
  private readonly created = Math.floor(Date.now() / 1000);
  private requests = 0;

  constructor(private readonly pool: WorkerPool, private readonly info: ModelInfo, private readonly page: Map<string, StaticFile>, private readonly defaults: { temperature: number; topK: number; maxTokens: number }) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((e: unknown) => {
      if (e instanceof RequestError) sendError(res, e);
      else sendError(res, new RequestError(500, `internal error: ${(e as Error).message}`, null, 'server_error'));
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') return this.preflight(res);
    const asset = this.page.get(path === '/' ? '/index.html' : path);
    if (asset && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...(asset.type.startsWith('text/html') ? { 'content-security-policy': PAGE_CSP } : {}) });
      res.end(method === 'HEAD' ? undefined : asset.body);
      return;
    }
    const routes: Record<string, [string, () => Promise<void> | void]> = {
      '/health': ['GET', () => { const st = this.pool.stats(); sendJson(res, 200, { status: st.ready > 0 ? 'ok' : 'loading', model: this.info.modelId, ...st, requests: this.requests }); }],
      '/v1/models': ['GET', () => sendJson(res, 200, { object: 'list', data: [this.modelObject()] })],
      '/chat/completions': ['POST', () => this.referenceChat(req, res)],
      '/v1/chat/completions': ['POST', () => this.openaiChat(req, res)],
      '/v1/completions': ['POST', () => this.openaiCompletion(req, res)],
    };
    const r = routes[path] ?? (path.startsWith('/v1/models/') ? ['GET', () => this.oneModel(res, decodeURIComponent(path.slice('/v1/models/'.length)))] as [string, () => void] : undefined);
    if (!r) throw new RequestError(404, `no route ${method} ${path}`, null, 'not_found_error');
    if (r[0] !== method && !(r[0] === 'GET' && method === 'HEAD')) {
      res.setHeader('allow', r[0]);
      throw new RequestError(405, `${path} accepts ${r[0]}, not ${method}`, null, 'invalid_request_error');
    }
    await r[1]();
  }

  private preflight(res: ServerResponse): void {
    res.writeHead(204, { ...CORS, 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': 'content-type, authorization', 'access-control-max-age': '600' });
    res.end();
  }

  private modelObject() {
    return { id: this.info.modelId, object: 'model', created: this.created, owned_by: 'nanochat' };
  }

  private oneModel(res: ServerResponse, id: string): void {
    if (id !== this.info.modelId) throw new RequestError(404, `no model '${id}'; this server has '${this.info.modelId}'`, 'model', 'not_found_error');
    sendJson(res, 200, this.modelObject());
  }

  // --- the reference's streaming endpoint -------------------------------------------------------

  private async referenceChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseBody(await readBody(req));
    const messages = validateMessages(body);
    const p = samplingParams(body, this.defaults);
    const spec: JobSpec = { kind: 'chat', messages, temperature: p.temperature, topK: p.topK, maxTokens: p.maxTokens, seed: p.seed ?? randomSeed() };
    let worker = 0;
    this.run(res, spec, {
      onStart: (_n, w) => { worker = w; openSse(res); },
      onToken: (text) => sse(res, { token: text, worker }),
      onDone: (finish) => { sse(res, { done: true, finish_reason: finish }); res.end(); },
    });
  }

  // --- OpenAI-compatible endpoints --------------------------------------------------------------

  private async openaiChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseBody(await readBody(req));
    checkModel(body, this.info.modelId);
    checkN(body);
    const messages = validateMessages(body);
    const p = samplingParams(body, this.defaults);
    const stream = streamFlag(body);
    const includeUsage = stream && typeof body.stream_options === 'object' && body.stream_options !== null && (body.stream_options as Record<string, unknown>).include_usage === true;
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = this.info.modelId;
    const spec: JobSpec = { kind: 'chat', messages, temperature: p.temperature, topK: p.topK, maxTokens: p.maxTokens, seed: p.seed ?? randomSeed() };
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
    let text = '';
    this.run(res, spec, stream ? {
      onStart: () => { openSse(res); sse(res, chunk({ role: 'assistant', content: '' }, null)); },
      onToken: (t) => sse(res, chunk({ content: t }, null)),
      onDone: (finish, u) => {
        sse(res, chunk({}, openaiFinish(finish)));
        if (includeUsage) sse(res, { id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [], usage: usage(u) });
        res.write('data: [DONE]\n\n');
        res.end();
      },
    } : {
      onStart: () => undefined,
      onToken: (t) => { text += t; },
      onDone: (finish, u) => sendJson(res, 200, {
        id, object: 'chat.completion', created, model, system_fingerprint: null,
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: openaiFinish(finish) }],
        usage: usage(u),
      }),
    });
  }

  private async openaiCompletion(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseBody(await readBody(req));
    checkModel(body, this.info.modelId);
    checkN(body);
    const prompt = validatePrompt(body);
    // OpenAI's default for this endpoint is 16 new tokens
    const p = samplingParams(body, { ...this.defaults, maxTokens: 16 });
    const stream = streamFlag(body);
    const id = `cmpl-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = this.info.modelId;
    const spec: JobSpec = { kind: 'completion', text: prompt, temperature: p.temperature, topK: p.topK, maxTokens: p.maxTokens, seed: p.seed ?? randomSeed() };
    const choice = (text: string, finish: string | null) => ({ text, index: 0, logprobs: null, finish_reason: finish });
    let text = '';
    this.run(res, spec, stream ? {
      onStart: () => openSse(res),
      onToken: (t) => sse(res, { id, object: 'text_completion', created, model, choices: [choice(t, null)] }),
      onDone: (finish) => {
        sse(res, { id, object: 'text_completion', created, model, choices: [choice('', openaiFinish(finish))] });
        res.write('data: [DONE]\n\n');
        res.end();
      },
    } : {
      onStart: () => undefined,
      onToken: (t) => { text += t; },
      onDone: (finish, u) => sendJson(res, 200, { id, object: 'text_completion', created, model, choices: [choice(text, openaiFinish(finish))], usage: usage(u) }),
    });
  }

  // --- running a job for one HTTP exchange ------------------------------------------------------

  /**
   * Submit the job and wire the client's disconnect to its cancellation. Errors before the first
   * token are plain JSON errors; after the stream has started they become a final SSE error event.
   */
  private run(res: ServerResponse, spec: JobSpec, h: { onStart(promptTokens: number, worker: number): void; onToken(t: string): void; onDone(finish: string, u: { promptTokens: number; completionTokens: number }): void }): void {
    this.requests++;
    let finished = false;
    const handle = this.pool.submit(spec, {
      onStart: (n, w) => h.onStart(n, w),
      onToken: (t) => h.onToken(t),
      onDone: (finish, u) => { finished = true; h.onDone(finish, u); },
      onError: (status, message, param) => {
        finished = true;
        const err = new RequestError(status, message, param, status >= 500 ? 'server_error' : 'invalid_request_error');
        if (res.headersSent) {
          sse(res, { error: errorBody(err).error });
          res.end();
        } else sendError(res, err);
      },
    });
    // the response closing before we finished means the client went away: free the worker now
    res.on('close', () => { if (!finished) handle.cancel(); });
  }
}

// --- helpers ----------------------------------------------------------------------------------

/** The page is our own static files: scripts only from this origin, no inline script, no plugins. */
const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const CORS = { 'access-control-allow-origin': '*' };

function randomSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

/** Our finish reasons in OpenAI's words: the context filling up is a length stop too. */
function openaiFinish(f: string): string {
  return f === 'stop' ? 'stop' : 'length';
}

function usage(u: { promptTokens: number; completionTokens: number }) {
  return { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens };
}

/** `model` may be omitted or name this server's model (or any name: one model serves all, like most local servers). */
function checkModel(body: Record<string, unknown>, _id: string): void {
  if (body.model !== undefined && typeof body.model !== 'string') throw new RequestError(400, `'model' must be a string, got ${JSON.stringify(body.model)}`, 'model');
}

/** Read the body up to the size cap; a bigger one is refused with 413 without reading the rest. */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > LIMITS.maxBodyBytes) {
      reject(new RequestError(413, `the request body is ${declared} bytes; the limit is ${LIMITS.maxBodyBytes}`, 'body'));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > LIMITS.maxBodyBytes) {
        failed = true;
        reject(new RequestError(413, `the request body is over the limit of ${LIMITS.maxBodyBytes} bytes`, 'body'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks).toString('utf8')); });
    req.on('error', (e) => { if (!failed) reject(e); });
  });
}

function errorBody(e: RequestError) {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.status === 429 ? 'rate_limit_exceeded' : null } };
}

function sendError(res: ServerResponse, e: RequestError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string> = {};
  if (e.status === 429 || e.status === 503) headers['retry-after'] = String(RETRY_AFTER_S);
  // a refused body may still be arriving: close the connection rather than read it all
  if (e.status === 413) headers.connection = 'close';
  sendJson(res, e.status, errorBody(e), headers);
}

function sendJson(res: ServerResponse, status: number, obj: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length, ...CORS, ...headers });
  res.end(body);
}

function openSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', ...CORS });
  res.flushHeaders();
}

function sse(res: ServerResponse, obj: unknown): void {
  if (!res.writableEnded) res.write(`data: ${JSON.stringify(obj)}\n\n`);
}
