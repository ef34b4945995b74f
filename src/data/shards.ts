// Pretraining shards: a folder of files whose documents are text. Read streamed, never whole.
// Formats: .jsonl / .jsonl.gz (a `text` field per line). Sorted by name; the last is validation.

import { createReadStream, readdirSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { UserError } from '../cli/common.js';

const SHARD_RE = /\.(jsonl|jsonl\.gz)$/;

/** Shard files of a folder in name order; a clear error when there are none. */
export function listShards(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new UserError(`no data folder at ${dir}: run \`nanochat data download\` (or pass --data-dir with your own shards)`);
  }
  const files = names.filter((n) => SHARD_RE.test(n)).sort().map((n) => join(dir, n)).filter((f) => statSync(f).isFile());
  if (files.length === 0) throw new UserError(`no shards (.jsonl, .jsonl.gz) in ${dir}: run \`nanochat data download\``);
  return files;
}

/** Training shards are all but the last; the last is validation (a single shard serves both). */
export function splitShards(files: string[], split: 'train' | 'val'): string[] {
  if (files.length === 1) return files;
  return split === 'val' ? files.slice(-1) : files.slice(0, -1);
}

/** Stream the documents of one shard. */
export async function* readShard(file: string): AsyncGenerator<string> {
  const raw = createReadStream(file);
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      throw new UserError(`${file}: line ${n} is not valid JSON; the file is corrupt: delete it and run \`nanochat data download\` again`);
    }
    const text = (rec as { text?: unknown }).text;
    if (typeof text !== 'string') throw new UserError(`${file}: line ${n} has no string field "text"`);
    yield text;
  }
}

/** Stream the documents of several shards in order. */
export async function* readShards(files: string[]): AsyncGenerator<string> {
  for (const f of files) yield* readShard(f);
}
