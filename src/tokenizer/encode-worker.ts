// Worker side of EncodePool: rebuild the tokenizer from its spec once, then encode batches of texts
// and send the ids back as transferable Uint32Arrays (no copy).

import { parentPort, workerData } from 'node:worker_threads';
import { BpeTokenizer } from './bpe.js';
import { unpackSpec, type PackedSpec } from './packed-spec.js';

const tok = new BpeTokenizer(unpackSpec(workerData as PackedSpec));

parentPort!.on('message', (msg: { job: number; texts: string[]; clearCache?: boolean }) => {
  if (msg.clearCache) tok.clearCache();
  const out = msg.texts.map((t) => tok.encodeIds(t));
  parentPort!.postMessage({ job: msg.job, out }, out.map((a) => a.buffer as ArrayBuffer));
});
