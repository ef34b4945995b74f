// `nanochat serve`: the chat page and the HTTP API (routes in server.ts).
//
//   nanochat serve                      sft model on http://127.0.0.1:8000
//   nanochat serve -i rl --workers 2 --batch 16 --port 9000
//
// It listens only after every worker has loaded the model; Ctrl-C (or SIGTERM) stops it cleanly.

import { parse, num, str, out, emitJson, type FlagSpec } from '../cli/flags.js';
import { modelFlags } from '../cli/model-flags.js';
import { WEIGHTS_DTYPE_FLAG, weightsDtype } from '../cli/dtype.js';
import { UserError } from '../common/errors.js';
import { startServer } from '../serve/server.js';
import { getBackend } from '../tensor/backends.js';

const FLAGS: FlagSpec = {
  ...modelFlags('sft'),
  ...WEIGHTS_DTYPE_FLAG,
  host: { type: 'string', default: '127.0.0.1', help: 'address to listen on (0.0.0.0 exposes it to the network)' },
  port: { type: 'string', short: 'p', default: '8000', help: 'port (0 picks a free one)' },
  workers: { type: 'string', default: '1', help: 'model replicas, each in its own worker thread (webgpu: one, in this thread)' },
  batch: { type: 'string', default: '8', help: 'requests each worker decodes together, one batched forward per token (1: one at a time)' },
  queue: { type: 'string', default: '32', help: 'requests that may wait for a worker; beyond that 429 with Retry-After' },
  temperature: { type: 'string', short: 't', default: '0.8', help: 'default temperature when a request gives none' },
  'top-k': { type: 'string', short: 'k', default: '50', help: 'default top-k when a request gives none' },
  'max-tokens': { type: 'string', default: '512', help: 'default max tokens when a request gives none' },
  'token-delay-ms': { type: 'string', default: '0', help: 'wait this long after every token (to watch streaming, or test clients)' },
};

export async function run(argv: string[]): Promise<number> {
  const p = parse('serve', 'Serve the chat page and an OpenAI-compatible API.', FLAGS, argv);
  const say = out(p);
  const stepFlag = str(p, 'step');
  const opts = {
    source: str(p, 'source') ?? 'sft',
    tag: str(p, 'model-tag'),
    step: stepFlag === undefined ? undefined : num(p, 'step', { min: 0 }),
    dtype: weightsDtype(p),
    workers: num(p, 'workers', { min: 1, max: 64 }),
    batch: num(p, 'batch', { min: 1, max: 256 }),
    maxQueue: num(p, 'queue', { min: 0, max: 100000 }),
    tokenDelayMs: num(p, 'token-delay-ms', { min: 0, max: 10000 }),
    defaults: {
      temperature: num(p, 'temperature', { min: 0, max: 2, allowFloat: true }),
      topK: num(p, 'top-k', { min: 1, max: 200 }),
      maxTokens: num(p, 'max-tokens', { min: 1, max: 4096 }),
    },
  };
  const host = str(p, 'host') ?? '127.0.0.1';
  const port = num(p, 'port', { min: 0, max: 65535 });
  // On the CPU each replica is a worker thread (one a core). On webgpu the one replica decodes in this thread: Dawn
  // opens its device only on the main thread (measured: EGL fails in workers), and the GPU computes while the
  // thread awaits its reads, so HTTP stays responsive; concurrent requests share the replica through --batch.
  const inThread = getBackend().name === 'webgpu';
  if (inThread && opts.workers !== 1) {
    throw new UserError(`serve on webgpu runs one model replica on the GPU, not ${opts.workers}: drop --workers ` +
      '(raise --batch to decode more requests together)');
  }
  say(`nanochat serve: loading ${opts.source} ${inThread ? 'on the GPU (webgpu, in this thread)' : `in ${opts.workers} worker${opts.workers > 1 ? 's' : ''}`}...`);
  let s;
  try {
    s = await startServer({ ...opts, inThread }, host, port);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new UserError(`port ${port} on ${host} is already in use: pick another with --port`);
    if (err.code === 'EACCES') throw new UserError(`not allowed to listen on ${host}:${port}: pick a port above 1024 with --port`);
    throw new UserError(err.message);
  }
  say(`nanochat serve: ${s.info.modelId} (context ${s.info.contextLength} tokens) at ${s.url}/  (API: ${s.url}/v1)`);
  emitJson(p, { url: s.url, model: s.info.modelId, workers: opts.workers, batch: opts.batch });
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      say('nanochat serve: stopping');
      s.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
