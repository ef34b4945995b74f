// `nanochat bench serve`: how fast the engine decodes and how the server holds up under load.
//
// 1. Single-stream decode, depths 4, 20 and 32 (random weights, vocab 65536 like the reference), with the
//    weights in f32 and in bf16 (--dtype; src/tensor/bf16-weights.ts): the engine's per-token work (one
//    cached forward of one token, then top-k sampling) timed over --decode-tokens steps after a 32-token
//    prompt. Reported against the forward FLOPs per token (2 x non-embedding parameters + attention over
//    the cache) and the weight bytes a step must read: at batch 1 every weight is used once per token, so a
//    decode step is bound by memory traffic. The bound is the machine's copy bandwidth (bytes read + written
//    per second by a 256 MB copy on every thread, best of 5, measured right before each run) over the
//    weight bytes per token; a decode that only reads can pass it slightly. The share of the step spent
//    outside the forward (sampling, bookkeeping) says whether the engine adds overhead on top. Prefill:
//    tokens/s of one 128-token prompt (best of 2).
// 2. Load: a depth-4 model (random weights, byte-level tokenizer, in a temp base dir unless -i names
//    a real checkpoint) served on 127.0.0.1; --clients concurrent streaming clients (OpenAI-style
//    /v1/chat/completions) loop for --duration seconds. Reported: requests completed, errors (target
//    0), time to first token p50/p99, tokens/s per stream (p50) and in total.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, num, str, emitJson, type FlagSpec } from '../cli/flags.js';
import { UserError } from '../common/errors.js';
import { GPT, configFromDepth } from '../model/gpt.js';
import { getBackend } from '../tensor/backends.js';
import { machinePeakFlops } from '../tensor/peak.js';
import { sampleToken } from '../engine/sampling.js';
import { seededRng } from '../tensor/random.js';
import { hostData } from '../tensor/tensor.js';
import { inferInBf16, keepsF32, toBf16Weight } from '../tensor/bf16-weights.js';
import { setMatmulPrecision } from '../tensor/precision.js';
import { BpeTokenizer, ourSpecials } from '../tokenizer/bpe.js';
import { saveTokenizer } from '../tokenizer/io.js';
import { checkpointDir, saveCheckpoint } from '../checkpoint/checkpoint.js';
import { tokenizerIdentity } from '../checkpoint/tokenizer-identity.js';
import { startServer } from '../serve/server.js';
import { WebGpuBackend } from '../tensor/webgpu/backend.js';
import { measureGpuPeak } from '../tensor/webgpu/peak.js';

const FLAGS: FlagSpec = {
  clients: { type: 'string', default: '32', help: 'concurrent streaming clients in the load test' },
  duration: { type: 'string', default: '60', help: 'seconds the load test runs (0 skips it)' },
  'max-tokens': { type: 'string', default: '64', help: 'max tokens per load-test request' },
  workers: { type: 'string', default: '1', help: 'server model workers in the load test' },
  batch: { type: 'string', default: '1,8', help: 'requests a worker decodes together in the load test; a list runs the test once per value, the first is the peer of the others' },
  depths: { type: 'string', default: '4,20,32', help: 'model depths for the single-stream decode test (empty skips it; d32 in f32 needs ~8 GB)' },
  dtype: { type: 'string', default: 'f32,bf16', help: 'weight storage of the decode test, bf16 and/or f32 (a list runs each)' },
  'decode-tokens': { type: 'string', default: '128', help: 'decode steps timed per depth' },
  source: { type: 'string', short: 'i', help: 'serve this checkpoint stage (base|mid|sft|rl) in the load test instead of a random d4' },
};

const DECODE_VOCAB = 65536;
const PROMPT_LEN = 32;
const PREFILL_LEN = 128;

interface DecodeResult {
  depth: number;
  dtype: 'f32' | 'bf16';
  params_non_embedding: number;
  tokens_per_sec: number;
  ms_per_token: number;
  /** forward FLOPs per decoded token (matmuls + attention at the mean cache length) */
  flops_per_token: number;
  gflops: number;
  /** fraction of the machine's measured FLOP/s peak */
  flops_utilization: number;
  /** weight bytes read per step (f32 or bf16 matrices; the embedding row is negligible) / step time */
  weight_gb_per_sec: number;
  weight_bytes_per_token: number;
  /** copy bandwidth measured just before the run: bytes read + written per second */
  copy_gb_per_sec: number;
  /** copy bandwidth / weight bytes per token, and the measured tokens/s as a share of it */
  bound_tokens_per_sec: number;
  bound_share: number;
  prefill_tokens_per_sec: number;
  /** the process's resident memory after the run */
  rss_gb: number;
  /** share of the step spent outside the model's forward (sampling, engine bookkeeping) */
  overhead_share: number;
}

/**
 * Random weights (uniform, std 1/sqrt(fan_in); the embedding std 1), matrix by matrix; with bf16 each matrix is
 * converted right after it is filled, so at most one matrix is ever held in f32 (the GPT's zeroed f32 buffers
 * take no memory until written). xorshift, not initWeights' Gaussian: d32 has 1.9B weights to fill.
 */
function randomWeights(model: GPT, dtype: 'f32' | 'bf16'): void {
  let x = 0x9e3779b9;
  const be = getBackend();
  for (const [name, t] of model.params) {
    // on a device backend each matrix is filled on the host and uploaded
    const onHost = t.data instanceof Float32Array, d = onHost ? hostData(t.data) : new Float32Array(t.size);
    const half = Math.sqrt(3) * (name === 'transformer.wte.weight' ? 1 : 1 / Math.sqrt(t.shape[1]));
    for (let i = 0; i < d.length; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      d[i] = ((x >>> 0) / 2147483648 - 1) * half;
    }
    if (!onHost) be.write(t.data, d);
    if (dtype === 'bf16' && !keepsF32(name)) toBf16Weight(t);
  }
}

/**
 * Bytes read + written per second by a copy of 256 MB on the backend (all its threads; on a GPU its memory, the copy
 * timed to its end), best of 5. 32 MB where the device's largest buffer is smaller (llvmpipe: 128 MiB).
 */
async function copyBandwidth(): Promise<number> {
  const be = getBackend(), finish = (be as { finish?(): Promise<void> }).finish?.bind(be) ?? (async () => undefined);
  const most = (be as { maxBufferElements?: number }).maxBufferElements ?? Infinity, n = most >= 64 << 20 ? 64 << 20 : 8 << 20;
  const src = be.alloc(n), dst = be.alloc(n);
  be.fill(src, 1, n);
  be.fill(dst, 0, n);
  await finish();
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    be.copy(src, dst, n);
    await finish();
    best = Math.min(best, performance.now() - t0);
  }
  be.release(src);
  be.release(dst);
  return (2 * 4 * n) / (best / 1000);
}

async function decodeBench(depth: number, steps: number, dtype: 'f32' | 'bf16', peakFlops: number): Promise<DecodeResult> {
  const headDim = depth <= 4 ? 64 : 128;
  const warm = Math.min(8, steps); // untimed first steps (first-call allocations)
  const len = Math.max(PROMPT_LEN + warm + steps, PREFILL_LEN);
  const model = new GPT(configFromDepth(depth, DECODE_VOCAB, len, { headDim }));
  randomWeights(model, dtype);
  if (dtype === 'bf16') inferInBf16(model); // the matrices are bf16 already; sets the matmul precision
  try {
    return await timeDecode(model, depth, steps, warm, len, dtype, peakFlops);
  } finally {
    setMatmulPrecision('f32');
  }
}

async function timeDecode(
  model: GPT, depth: number, steps: number, warm: number, len: number, dtype: 'f32' | 'bf16', peakFlops: number,
): Promise<DecodeResult> {
  const rng = seededRng(3);
  const nonEmb = model.numParams() - model.param('transformer.wte.weight').size;
  let prefillMs = Infinity;
  const long = Int32Array.from({ length: PREFILL_LEN }, (_, i) => (i * 104729) % DECODE_VOCAB);
  for (let r = 0; r < 2; r++) {
    const c = model.newCache(1, PREFILL_LEN);
    const t = performance.now();
    await model.forwardCached(long, 1, PREFILL_LEN, c);
    prefillMs = Math.min(prefillMs, performance.now() - t);
    model.releaseCache(c);
  }
  const copyBw = await copyBandwidth();
  const cache = model.newCache(1, len);
  const prompt = Int32Array.from({ length: PROMPT_LEN }, (_, i) => (i * 7919) % DECODE_VOCAB);
  let logits = await model.forwardCached(prompt, 1, PROMPT_LEN, cache);
  const ids = new Int32Array(1);
  let forwardMs = 0;
  let t0 = 0;
  for (let s = 0; s < steps + warm; s++) {
    if (s === warm) { t0 = performance.now(); forwardMs = 0; }
    ids[0] = sampleToken(logits, 0, DECODE_VOCAB, { temperature: 0.6, topK: 50 }, rng);
    const f0 = performance.now();
    logits = await model.forwardCached(ids, 1, 1, cache);
    forwardMs += performance.now() - f0;
  }
  const totalMs = performance.now() - t0;
  model.releaseCache(cache);
  const msPerToken = totalMs / steps;
  const { nLayer, nEmbd } = model.config;
  const meanCache = PROMPT_LEN + warm + steps / 2;
  const flops = 2 * nonEmb + 4 * nLayer * nEmbd * meanCache; // q.k and p.v over the cache
  const tps = 1000 / msPerToken;
  const bytes = (dtype === 'bf16' ? 2 : 4) * nonEmb;
  return {
    depth, dtype, params_non_embedding: nonEmb, tokens_per_sec: tps, ms_per_token: msPerToken, flops_per_token: flops,
    gflops: (flops * tps) / 1e9, flops_utilization: (flops * tps) / peakFlops,
    weight_gb_per_sec: (bytes * tps) / 1e9, overhead_share: 1 - forwardMs / totalMs,
    weight_bytes_per_token: bytes, copy_gb_per_sec: copyBw / 1e9, bound_tokens_per_sec: copyBw / bytes,
    bound_share: tps / (copyBw / bytes), prefill_tokens_per_sec: PREFILL_LEN / (prefillMs / 1000),
    rss_gb: process.memoryUsage().rss / 1e9,
  };
}

interface LoadResult {
  clients: number;
  duration_s: number;
  model: string;
  workers: number;
  batch: number;
  requests_completed: number;
  errors: number;
  error_samples: string[];
  ttft_ms_p50: number;
  ttft_ms_p99: number;
  stream_tokens_per_sec_p50: number;
  total_tokens_per_sec: number;
  tokens: number;
}

const pct = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** A random-weight d4 chat model with a byte-level tokenizer in a temp base dir. */
async function tempModelDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nanochat-bench-serve-'));
  process.env.NANOCHAT_BASE_DIR = dir;
  const tok = new BpeTokenizer({ name: 'bytes', tokens: Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)), pattern: 'gpt4-digits2', specials: ourSpecials(256) });
  saveTokenizer(tok, join(dir, 'tokenizer'));
  const model = new GPT(configFromDepth(4, tok.vocabSize, 2048, { headDim: 64 }));
  model.initWeights(1);
  const rng = seededRng(5);
  const be = getBackend();
  for (const [name, t] of model.params) {
    if (name === 'lm_head.weight' || name.endsWith('c_proj.weight')) {
      // filled on the host, then uploaded where the backend keeps weights on its device
      const d = t.data instanceof Float32Array ? t.data : new Float32Array(t.size);
      for (let i = 0; i < d.length; i++) d[i] = (rng() - 0.5) * 0.2;
      if (d !== t.data) be.write(t.data, d);
    }
  }
  await saveCheckpoint(checkpointDir('sft', 'd4'), model, { format: 1, stage: 'sft', step: 0, modelConfig: model.config, tokenizer: tokenizerIdentity(tok), args: { bench: true } });
  return dir;
}

async function loadBench(o: { clients: number; durationS: number; maxTokens: number; workers: number; batch: number; source?: string }, say: (s: string) => void): Promise<LoadResult> {
  const prevBase = process.env.NANOCHAT_BASE_DIR;
  const tmp = o.source ? undefined : await tempModelDir();
  // on webgpu the one replica decodes in this thread, as `serve` runs it (Dawn opens no device in worker threads)
  const inThread = getBackend().name === 'webgpu';
  if (inThread && o.workers !== 1) throw new UserError('the load test on webgpu runs one replica on the GPU: drop --workers');
  const server = await startServer({ source: o.source ?? 'sft', workers: o.workers, batch: o.batch, maxQueue: o.clients, inThread }, '127.0.0.1', 0);
  say(`  load: ${o.clients} streaming clients for ${o.durationS} s on ${server.info.modelId} (${o.workers} worker${o.workers > 1 ? 's' : ''}, batch ${o.batch}, max_tokens ${o.maxTokens})`);
  const ttft: number[] = [];
  const streamTps: number[] = [];
  const errors: string[] = [];
  let completed = 0;
  let tokens = 0;
  const t0 = performance.now();
  const end = t0 + o.durationS * 1000;
  const client = async (c: number) => {
    let i = 0;
    while (performance.now() < end) {
      const start = performance.now();
      let first = 0;
      let n = 0;
      try {
        const r = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: `Client ${c}, request ${i++}: tell me something.` }], max_tokens: o.maxTokens, temperature: 0.8, stream: true }),
        });
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${(await r.text()).slice(0, 200)}`);
        const reader = r.body!.getReader();
        const dec = new TextDecoder();
        let buf = '';
        let done = false;
        for (;;) {
          const { value, done: eof } = await reader.read();
          if (eof) break;
          buf += dec.decode(value, { stream: true });
          let cut;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const ev = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            if (ev === 'data: [DONE]') { done = true; continue; }
            const j = JSON.parse(ev.slice(6));
            if (j.error) throw new Error(j.error.message);
            if (j.choices?.[0]?.delta?.content) {
              if (!first) first = performance.now();
              n++;
            }
          }
        }
        if (!done) throw new Error('stream ended without [DONE]');
        completed++;
        tokens += n;
        if (first) {
          ttft.push(first - start);
          const streamS = (performance.now() - first) / 1000;
          if (n > 1 && streamS > 0) streamTps.push((n - 1) / streamS);
        }
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
  const wall = (performance.now() - t0) / 1000;
  await server.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (prevBase === undefined) delete process.env.NANOCHAT_BASE_DIR;
  else process.env.NANOCHAT_BASE_DIR = prevBase;
  return {
    clients: o.clients, duration_s: wall, model: server.info.modelId, workers: o.workers, batch: o.batch,
    requests_completed: completed, errors: errors.length, error_samples: [...new Set(errors)].slice(0, 3),
    ttft_ms_p50: pct(ttft, 0.5), ttft_ms_p99: pct(ttft, 0.99), stream_tokens_per_sec_p50: pct(streamTps, 0.5),
    total_tokens_per_sec: tokens / wall, tokens,
  };
}

export async function run(argv: string[]): Promise<void> {
  const p = parse('bench serve', 'Single-stream decode and prefill speed (depths 4, 20, 32; f32 and bf16 weights) against the memory-bandwidth bound, and a streaming load test of `nanochat serve`.', FLAGS, argv);
  const say = (s: string) => (p.json ? process.stderr : process.stdout).write(s + '\n');
  const be = getBackend();
  const gpu = be instanceof WebGpuBackend ? be : undefined;
  const peak = gpu
    ? { flops: (await measureGpuPeak(gpu.device, 3)).f32, source: 'the adapter\'s f32 FMA loops, measured' }
    : machinePeakFlops();
  say(`bench serve: backend ${be.name} (${gpu ? gpu.adapterInfo.device || gpu.adapterInfo.description : `${be.threads} threads`}), peak ${(peak.flops / 1e9).toFixed(0)} GFLOP/s (${peak.source})`);
  const depths = String(p.values.depths ?? '').split(',').filter(Boolean).map(Number);
  const steps = num(p, 'decode-tokens', { min: 1, max: 100000 });
  let dtypes = String(p.values.dtype ?? '').split(',').filter(Boolean).map((d) => {
    if (d !== 'f32' && d !== 'bf16') throw new UserError(`--dtype takes bf16 and/or f32 separated by commas, got '${p.values.dtype}'`);
    return d;
  });
  if (gpu && dtypes.includes('bf16')) {
    // bf16 weights are a CPU feature (vdpbf16ps and the widening packer); webgpu keeps its weights in f32
    if (dtypes.length === 1) throw new UserError('bench serve on webgpu: bf16 weights are a CPU feature; use --dtype f32');
    say('  (webgpu keeps weights in f32: the decode test runs f32 only)');
    dtypes = dtypes.filter((d) => d === 'f32');
  }
  const decode: DecodeResult[] = [];
  for (const d of depths) for (const dtype of dtypes) {
    const r = await decodeBench(d, steps, dtype, peak.flops);
    decode.push(r);
    say(`  decode d${d} ${dtype}: ${r.tokens_per_sec.toFixed(1)} tok/s (${r.ms_per_token.toFixed(2)} ms/token), ${(100 * r.bound_share).toFixed(0)}% of the bandwidth bound ${r.bound_tokens_per_sec.toFixed(1)} tok/s (copy ${r.copy_gb_per_sec.toFixed(1)} GB/s / ${(r.weight_bytes_per_token / 1e6).toFixed(0)} MB per token); prefill ${r.prefill_tokens_per_sec.toFixed(0)} tok/s; ${(r.flops_per_token / 1e6).toFixed(1)} MFLOP/token -> ${r.gflops.toFixed(1)} GFLOP/s (${(100 * r.flops_utilization).toFixed(1)}% of peak), weights ${r.weight_gb_per_sec.toFixed(1)} GB/s, ${(100 * r.overhead_share).toFixed(1)}% of the step outside the forward, RSS ${r.rss_gb.toFixed(2)} GB`);
  }
  const durationS = num(p, 'duration', { min: 0, allowFloat: true });
  const batches = String(p.values.batch ?? '1').split(',').filter(Boolean).map((b) => {
    const n = Number(b);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new UserError(`--batch takes whole numbers from 1 to 256 separated by commas, got '${p.values.batch}'`);
    return n;
  });
  const load: LoadResult[] = [];
  if (durationS > 0) {
    for (const batch of batches) {
      const r = await loadBench({ clients: num(p, 'clients', { min: 1, max: 1024 }), durationS, maxTokens: num(p, 'max-tokens', { min: 1, max: 4096 }), workers: num(p, 'workers', { min: 1, max: 64 }), batch, source: str(p, 'source') }, say);
      load.push(r);
      const vsPeer = load.length > 1 ? `; ${(r.total_tokens_per_sec / load[0].total_tokens_per_sec).toFixed(2)}x the total of batch ${load[0].batch}` : '';
      say(`  load, batch ${batch}: ${r.requests_completed} requests, ${r.errors} errors${r.errors ? ` (${r.error_samples.join(' | ')})` : ''}; time to first token p50 ${r.ttft_ms_p50.toFixed(0)} ms, p99 ${r.ttft_ms_p99.toFixed(0)} ms; per stream ${r.stream_tokens_per_sec_p50.toFixed(1)} tok/s (p50); total ${r.total_tokens_per_sec.toFixed(1)} tok/s${vsPeer}`);
    }
  }
  emitJson(p, { name: 'serve', backend: be.name, threads: be.threads, peak_gflops: peak.flops / 1e9, decode, load });
}
