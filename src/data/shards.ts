// Pretraining shards: a folder of files whose documents are text. Read streamed, never whole.
// Formats (by extension):
//   .parquet            the `text` column, one row group at a time (./parquet.ts)
//   .jsonl, .jsonl.gz   one JSON object per line with a string field `text`
//   .txt, .txt.gz       plain text; documents are separated by a line holding only a form feed
//                       (`\f`) or by two or more consecutive blank lines. Single blank lines stay
//                       inside a document (they separate its paragraphs); a file without
//                       separators is one document. Lines end in \n or \r\n (read as \n).
// Shards are taken in name order; the last one is validation (splitShards). The data sets of
// `nanochat data download` follow that rule (pretrain_openstax's last shard is writing-guide,
// the book its README suggests for validation). Users can point --data-dir at their own folder.

import { createReadStream, readdirSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { UserError } from '../common/errors.js';
import { readParquetShard } from './parquet.js';

/** The data set the tokenizer and the base model train on: 25 OpenStax textbooks, one parquet shard each. */
export const DEFAULT_DATA_SET = 'pretrain_openstax';

const SHARD_RE = /\.(parquet|jsonl|jsonl\.gz|txt|txt\.gz)$/;
const FORMATS = '.parquet, .jsonl, .jsonl.gz, .txt, .txt.gz';

/** Shard files of a folder in name order; a clear error when there are none. */
export function listShards(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new UserError(`no data folder at ${dir}: run \`nanochat data download\` (or pass --data-dir with your own shards)`);
  }
  // Plain code-point order (not locale order), so every machine picks the same validation shard.
  const files = names.filter((n) => SHARD_RE.test(n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) => join(dir, n)).filter((f) => statSync(f).isFile());
  if (files.length === 0) throw new UserError(`no shards (${FORMATS}) in ${dir}: run \`nanochat data download\` (or pass --data-dir with your own shards)`);
  return files;
}

/** Training shards are all but the last; the last is validation (a single shard serves both). */
export function splitShards(files: string[], split: 'train' | 'val'): string[] {
  if (files.length === 1) return files;
  return split === 'val' ? files.slice(-1) : files.slice(0, -1);
}

/** Lines of a (possibly gzipped) text file, streamed. */
function lines(file: string): AsyncIterable<string> {
  const raw = createReadStream(file);
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => stream.destroy(e)); // pipe() does not forward source errors
  return createInterface({ input: stream, crlfDelay: Infinity });
}

async function* readJsonl(file: string): AsyncGenerator<string> {
  let n = 0;
  for await (const line of lines(file)) {
    n++;
    if (!line.trim()) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      throw new UserError(`${file}: line ${n} is not valid JSON; the file is corrupt: delete it and run \`nanochat data download\` again`);
    }
    const text = (rec as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') throw new UserError(`${file}: line ${n} has no string field "text"`);
    yield text;
  }
}

async function* readText(file: string): AsyncGenerator<string> {
  let doc: string[] = [];
  let blanks = 0; // blank lines seen since the last non-blank line
  const flush = function* () {
    if (doc.length) yield doc.join('\n');
    doc = [];
    blanks = 0;
  };
  for await (const line of lines(file)) {
    if (line === '\f') { yield* flush(); continue; }
    if (line.trim() === '') { blanks++; continue; }
    if (blanks >= 2) yield* flush();
    else if (blanks === 1 && doc.length) doc.push(''); // a paragraph break inside the document
    blanks = 0;
    doc.push(line);
  }
  yield* flush();
}

/** Stream the documents of one shard. */
export function readShard(file: string): AsyncGenerator<string> {
  if (file.endsWith('.parquet')) return readParquetShard(file);
  if (/\.txt(\.gz)?$/.test(file)) return readText(file);
  if (/\.jsonl(\.gz)?$/.test(file)) return readJsonl(file);
  throw new UserError(`${file}: unknown shard format (expected ${FORMATS})`);
}

/** Stream the documents of several shards in order. */
export async function* readShards(files: string[]): AsyncGenerator<string> {
  for (const f of files) yield* readShard(f);
}
