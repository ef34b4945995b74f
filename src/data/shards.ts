// Pretraining shards: a folder of files whose documents are text. Read streamed, never whole.
// Formats (by extension):
//   .parquet            the `text` column, one row group at a time (./parquet.ts)
//   .jsonl, .jsonl.gz   one JSON object per line with a string field `text`
//   .txt, .txt.gz       plain text; documents are separated by a line holding only a form feed
//                       (`\f`) or by two or more consecutive blank lines. Single blank lines stay
//                       inside a document (they separate its paragraphs); a file without
//                       separators is one document. Lines end in \n or \r\n (read as \n).
//
// Train and validation (splitShards): shards are taken in name order. Validation is drawn from the
// training distribution: a document is held out by a hash of its own text (isHeldOut, 5%), so the
// split needs no index, holds in a folder of one shard, and keeps copies of a text on one side.
// When there are several shards the last one is also read whole as an out-of-domain figure
// (pretrain_openstax's last shard is writing-guide); it is never trained on. Users can point
// --data-dir at their own folder.

import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { basename, join } from 'node:path';
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

/**
 * Percent of documents held out for validation. On pretrain_openstax's 24 training shards (3,996
 * documents) 5% holds out 168 documents, 767k tokens at vocab 4096: more than the largest
 * per-evaluation budget of the cpu tier (524k), spread over the books.
 */
export const HELD_OUT_PERCENT = 5;

/** A document is held out when the first 4 bytes of the sha256 of its UTF-8 text, big-endian, mod 100 < 5. */
export function isHeldOut(text: string): boolean {
  return createHash('sha256').update(text, 'utf8').digest().readUInt32BE(0) % 100 < HELD_OUT_PERCENT;
}

/** Which documents of a shard to read: every one, those trained on, or the held-out ones. */
export type DocFilter = 'all' | 'train' | 'heldout';

/** Documents to read: the filter applied to each of the files. */
export interface DocSet {
  files: string[];
  docs: DocFilter;
}

export interface ShardSplit {
  /** the documents trained on: every shard but the out-of-domain one, less the held-out documents */
  train: DocSet;
  /** the held-out documents of the same shards: `val bpb`, the headline figure */
  val: DocSet;
  /** the last shard read whole, when there are several (`val bpb (out of domain)`); null with one shard */
  outOfDomain: DocSet | null;
}

/** Train and validation documents of a folder's shards (in name order). No document is in both. */
export function splitShards(files: string[]): ShardSplit {
  const inDomain = files.length === 1 ? files : files.slice(0, -1);
  return {
    train: { files: inDomain, docs: 'train' },
    val: { files: inDomain, docs: 'heldout' },
    outOfDomain: files.length === 1 ? null : { files: files.slice(-1), docs: 'all' },
  };
}

/** The shard's name without folder and extension (`writing-guide`), for logs and reports. */
export function shardName(file: string): string {
  return basename(file).replace(SHARD_RE, '');
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

/** Stream the documents of one shard: every one, or only those the filter keeps. */
export async function* readShard(file: string, docs: DocFilter = 'all'): AsyncGenerator<string> {
  const all = file.endsWith('.parquet') ? readParquetShard(file)
    : /\.txt(\.gz)?$/.test(file) ? readText(file)
    : /\.jsonl(\.gz)?$/.test(file) ? readJsonl(file)
    : null;
  if (!all) throw new UserError(`${file}: unknown shard format (expected ${FORMATS})`);
  if (docs === 'all') { yield* all; return; }
  const heldOut = docs === 'heldout';
  for await (const text of all) if (isHeldOut(text) === heldOut) yield text;
}

/** Stream the documents of several shards in order. */
export async function* readShards(files: string[]): AsyncGenerator<string> {
  for (const f of files) yield* readShard(f);
}

/** Stream the documents of a set, shard after shard. */
export async function* readDocSet(set: DocSet): AsyncGenerator<string> {
  for (const f of set.files) yield* readShard(f, set.docs);
}
