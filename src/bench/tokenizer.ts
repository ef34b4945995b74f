// `nanochat bench tokenizer`: (1) encoding throughput on 10 MB of pretraining text with the GPT-4
// (cl100k_base) ranks, ours (one thread, and the worker pool on all cores) vs the `tiktoken` npm
// package (WASM build of the Rust original) in the same run, ids checked equal; (2) training time
// for a 32,768 vocabulary on 100M characters (openstax shards, uncapped, cycled to reach 100M).
// Encoding cases run in turns for `--repeat` rounds, each with a cold chunk cache; each reports its best.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse, num, str, out, emitJson } from '../cli/flags.js';
import { UserError } from '../common/errors.js';
import { dataDir } from '../common/paths.js';
import { listShards, readShards } from '../data/shards.js';
import { loadPublicVocab } from '../tokenizer/public-vocabs.js';
import { EncodePool } from '../tokenizer/encode-pool.js';
import { defaultThreads } from '../tokenizer/chunk-count.js';
import { trainTokenizer } from '../tokenizer/train.js';
import { DEFAULT_DATA_SET } from '../data/shards.js';

const FLAGS = {
  'data-dir': { type: 'string', help: `pretraining shards (default $NANOCHAT_BASE_DIR/data/${DEFAULT_DATA_SET}, else $NANOCHAT_DATA_MIRROR/${DEFAULT_DATA_SET})` },
  'encode-mb': { type: 'string', default: '10', help: 'megabytes of text to encode' },
  'train-chars': { type: 'string', default: '100000000', help: 'characters to train on (the shards are cycled if they hold fewer)' },
  'vocab-size': { type: 'string', default: '32768', help: 'vocabulary for the training case' },
  repeat: { type: 'string', default: '5', help: 'rounds of the encoding cases (each case reports its best round)' },
  'skip-train': { type: 'boolean', default: false, help: 'only the encoding cases' },
} as const;

function shardDir(p: ReturnType<typeof parse>): string {
  const given = str(p, 'data-dir');
  if (given) return given;
  const local = join(dataDir(), DEFAULT_DATA_SET);
  if (existsSync(local)) return local;
  const mirror = process.env.NANOCHAT_DATA_MIRROR;
  if (mirror && existsSync(join(mirror, DEFAULT_DATA_SET))) return join(mirror, DEFAULT_DATA_SET);
  throw new UserError(`no pretraining shards at ${local}: run \`nanochat data download\` or pass --data-dir`);
}

/** Documents from the shards, cycled, until `chars` characters. */
async function* cycled(files: string[], chars: number): AsyncGenerator<string> {
  let n = 0;
  for (;;) {
    for await (const d of readShards(files)) {
      yield d;
      n += d.length;
      if (n >= chars) return;
    }
  }
}

export async function run(argv: string[]): Promise<void> {
  const p = parse('bench tokenizer', 'Tokenizer encoding throughput vs tiktoken, and training time.', FLAGS, argv);
  const log = out(p);
  const files = listShards(shardDir(p));
  const repeat = num(p, 'repeat', { min: 1 });
  const threads = defaultThreads();
  const cases: Record<string, unknown>[] = [];
  const record = (c: Record<string, unknown>): void => {
    cases.push(c);
    if (p.json) process.stdout.write(JSON.stringify({ bench: 'tokenizer', ...c }) + '\n');
  };

  // --- encoding: 10 MB of text as one string (documents joined by blank lines)
  const targetBytes = num(p, 'encode-mb', { min: 0.001, allowFloat: true }) * 1e6;
  const docs: string[] = [];
  let bytes = 0;
  for await (const d of cycled(files, Infinity)) {
    docs.push(d);
    bytes += Buffer.byteLength(d) + 2;
    if (bytes >= targetBytes) break;
  }
  const text = docs.join('\n\n');
  bytes = Buffer.byteLength(text);
  log(`encoding ${(bytes / 1e6).toFixed(2)} MB (${docs.length} documents) with cl100k_base ranks, best of ${repeat}`);

  const { get_encoding } = await import('tiktoken');
  const peer = get_encoding('cl100k_base');
  const ours = loadPublicVocab('cl100k_base');
  const pool = new EncodePool(ours, threads);
  await pool.ready();

  let peerIds: Uint32Array = new Uint32Array();
  let oursIds: Uint32Array = new Uint32Array();
  let oursArray: number[] = [];
  let poolIds: Uint32Array = new Uint32Array();
  // The cases take turns within each round (the machine is shared: load drifts between seconds),
  // and each case keeps its best round. Our chunk caches are emptied before every timed run.
  const encodeCases: { run: () => Promise<unknown> | unknown; before?: () => Promise<void> | void; best: number }[] = [
    { run: () => (peerIds = peer.encode(text)), best: Infinity },
    { run: () => (oursIds = ours.encodeIds(text)), before: () => ours.clearCache(), best: Infinity },
    { run: () => (oursArray = ours.encode(text)), before: () => ours.clearCache(), best: Infinity },
    { run: async () => (poolIds = await pool.encodeLarge(text)), before: () => pool.ready(true), best: Infinity },
  ];
  for (let r = 0; r < repeat; r++) {
    for (const c of encodeCases) {
      await c.before?.();
      const t0 = performance.now();
      await c.run();
      c.best = Math.min(c.best, (performance.now() - t0) / 1000);
    }
  }
  const [tPeer, tOurs, tArray, tPool] = encodeCases.map((c) => c.best);
  await pool.close();
  peer.free();
  const same =
    peerIds.length === oursIds.length && peerIds.length === poolIds.length && peerIds.length === oursArray.length &&
    peerIds.every((x, i) => x === oursIds[i] && x === poolIds[i] && x === oursArray[i]);
  if (!same) throw new Error('ids differ from tiktoken: the encoder is wrong');
  const mbps = (t: number) => bytes / 1e6 / t;
  record({ case: 'encode', impl: 'tiktoken (npm, WASM)', threads: 1, mb: bytes / 1e6, seconds: tPeer, mbPerSec: mbps(tPeer), tokens: peerIds.length });
  record({ case: 'encode', impl: 'ours encode() -> number[]', threads: 1, mb: bytes / 1e6, seconds: tArray, mbPerSec: mbps(tArray), ratioVsTiktoken: tPeer / tArray, idsEqual: same });
  record({ case: 'encode', impl: 'ours encodeIds() -> Uint32Array', threads: 1, mb: bytes / 1e6, seconds: tOurs, mbPerSec: mbps(tOurs), ratioVsTiktoken: tPeer / tOurs, idsEqual: same });
  record({ case: 'encode', impl: 'ours (worker pool)', threads, mb: bytes / 1e6, seconds: tPool, mbPerSec: mbps(tPool), ratioVsTiktoken: tPeer / tPool, idsEqual: same });
  log(`  tiktoken            ${mbps(tPeer).toFixed(2)} MB/s`);
  log(`  ours, 1 thread      ${mbps(tOurs).toFixed(2)} MB/s  (${(tPeer / tOurs).toFixed(2)}x tiktoken; Uint32Array like tiktoken's)`);
  log(`  ours, 1 thread      ${mbps(tArray).toFixed(2)} MB/s  (${(tPeer / tArray).toFixed(2)}x tiktoken; encode() returning number[])`);
  log(`  ours, ${threads} threads     ${mbps(tPool).toFixed(2)} MB/s  (${(tPeer / tPool).toFixed(2)}x tiktoken), ids equal: ${same}`);

  // --- training
  let train: Record<string, unknown> | undefined;
  if (!p.values['skip-train']) {
    const chars = num(p, 'train-chars', { min: 1, allowFloat: true });
    const vocabSize = num(p, 'vocab-size', { min: 265 });
    log(`training vocab ${vocabSize} on ${chars.toLocaleString('en-US')} characters (${files.length} shards, uncapped, cycled) with ${threads} threads`);
    const { stats } = await trainTokenizer(cycled(files, chars), { vocabSize, threads });
    train = { case: 'train', vocabSize, chars, threads, seconds: stats.trainSeconds, countSeconds: stats.countSeconds, mergeSeconds: stats.mergeSeconds, uniqueChunks: stats.uniqueChunks, merges: stats.merges };
    record(train);
    log(`  ${stats.trainSeconds.toFixed(1)} s (counting ${stats.countSeconds.toFixed(1)} s, merging ${stats.mergeSeconds.toFixed(1)} s), ${stats.uniqueChunks.toLocaleString('en-US')} unique chunks`);
  }
  emitJson(p, { bench: 'tokenizer', summary: true, encodeMbPerSec: { tiktoken: mbps(tPeer), ours: mbps(tOurs), oursNumberArray: mbps(tArray), oursPool: mbps(tPool) }, ratio: tPeer / tPool, ratioOneThread: tPeer / tOurs, trainSeconds: train?.seconds ?? null });
}
