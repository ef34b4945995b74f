import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { listShards, readShard, readShards, splitShards } from '../../src/data/shards.js';

const dir = mkdtempSync(join(tmpdir(), 'nanochat-shards-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const docs = Array.from({ length: 2500 }, (_, i) => `document ${i}: ${'héllo wörld 🌍 '.repeat(i % 7)}\nsecond line`);

function writeParquet(name: string, texts: (string | null)[], opts: { codec?: string; compress?: (b: Uint8Array) => Uint8Array; rowGroupSize?: number; column?: string } = {}): string {
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: texts.map((_, i) => i), type: 'INT32' },
      { name: opts.column ?? 'text', data: texts, type: 'STRING' },
    ],
    rowGroupSize: opts.rowGroupSize ?? 1000,
    ...(opts.codec ? { codec: opts.codec as never, compressors: { [opts.codec]: opts.compress } as never } : {}),
  });
  const file = join(dir, name);
  writeFileSync(file, Buffer.from(buf));
  return file;
}

test('parquet: the text column of every row group, in order (snappy, several row groups)', async () => {
  const file = writeParquet('a.parquet', docs, { rowGroupSize: 700 });
  assert.deepEqual(await collect(readShard(file)), docs);
});

test('parquet: null texts are skipped; gzip-compressed pages are read', async () => {
  const file = writeParquet('gz.parquet', ['one', null, 'three'], { codec: 'GZIP', compress: (b) => gzipSync(b) });
  assert.deepEqual(await collect(readShard(file)), ['one', 'three']);
});

test('parquet: zstd-compressed pages (the codec of nanochat\'s own shards) are read', async (t) => {
  let hasZstd = true;
  try { execFileSync('zstd', ['--version'], { stdio: 'ignore' }); } catch { hasZstd = false; }
  if (!hasZstd) { t.skip('no zstd command to write a zstd parquet file'); return; }
  const zstd = (b: Uint8Array) => new Uint8Array(execFileSync('zstd', ['-q', '-c', '-3'], { input: b }));
  const file = writeParquet('zstd.parquet', docs.slice(0, 50), { codec: 'ZSTD', compress: zstd, rowGroupSize: 20 });
  assert.deepEqual(await collect(readShard(file)), docs.slice(0, 50));
});

test('parquet: a file without a text column is a clear error', async () => {
  const file = writeParquet('notext.parquet', ['x'], { column: 'content' });
  await assert.rejects(collect(readShard(file)), /no 'text' column \(columns: id, content\)/);
  writeFileSync(join(dir, 'garbage.parquet'), 'this is not parquet at all');
  await assert.rejects(collect(readShard(join(dir, 'garbage.parquet'))), /not a readable parquet file/);
});

test('jsonl and jsonl.gz: the text field of each line; blank lines ignored; bad JSON names file and line', async () => {
  const lines = docs.slice(0, 10).map((d) => JSON.stringify({ text: d, other: 1 })).join('\n') + '\n\n';
  writeFileSync(join(dir, 'b.jsonl'), lines);
  writeFileSync(join(dir, 'c.jsonl.gz'), gzipSync(lines));
  assert.deepEqual(await collect(readShard(join(dir, 'b.jsonl'))), docs.slice(0, 10));
  assert.deepEqual(await collect(readShard(join(dir, 'c.jsonl.gz'))), docs.slice(0, 10));
  const bad = join(dir, 'bad', 'x.jsonl');
  execFileSync('mkdir', ['-p', join(dir, 'bad')]);
  writeFileSync(bad, '{"text": "ok"}\n{"text": broken\n');
  await assert.rejects(collect(readShard(bad)), /x\.jsonl: line 2 is not valid JSON/);
  writeFileSync(bad, '{"title": "no text"}\n');
  await assert.rejects(collect(readShard(bad)), /line 1 has no string field "text"/);
});

test('txt: documents split at a form-feed line or 2+ blank lines; single blank lines stay inside; CRLF read as LF', async () => {
  const txt = 'Doc one, para one.\r\n\r\nDoc one, para two.\r\n\f\r\nDoc two.\n\n\n\nDoc three\nline two\n\n\n';
  writeFileSync(join(dir, 'd.txt'), txt);
  writeFileSync(join(dir, 'e.txt.gz'), gzipSync('\n\nonly one document\n'));
  assert.deepEqual(await collect(readShard(join(dir, 'd.txt'))), ['Doc one, para one.\n\nDoc one, para two.', 'Doc two.', 'Doc three\nline two']);
  assert.deepEqual(await collect(readShard(join(dir, 'e.txt.gz'))), ['only one document']);
});

test('listShards: shard files in name order (others ignored); splitShards: train, held-out val, the last shard out of domain', async () => {
  writeFileSync(join(dir, 'notes.md'), 'not a shard');
  writeFileSync(join(dir, 'z.jsonl.tmp-123'), 'a temp file of a download');
  const files = listShards(dir);
  const names = files.map((f) => f.slice(dir.length + 1));
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.includes('a.parquet') && names.includes('c.jsonl.gz') && names.includes('e.txt.gz'));
  assert.ok(!names.includes('notes.md') && !names.some((n) => n.includes('.tmp-')));
  // validation: the held-out documents of the training shards, and the last shard whole (out of domain)
  assert.deepEqual(splitShards(files), {
    train: { files: files.slice(0, -1), docs: 'train' },
    val: { files: files.slice(0, -1), docs: 'heldout' },
    outOfDomain: { files: files.slice(-1), docs: 'all' },
  });
  // one shard: its documents split by the hash, and no out-of-domain set
  assert.deepEqual(splitShards(files.slice(0, 1)), {
    train: { files: files.slice(0, 1), docs: 'train' }, val: { files: files.slice(0, 1), docs: 'heldout' }, outOfDomain: null,
  });
  const mixed = await collect(readShards([join(dir, 'b.jsonl'), join(dir, 'e.txt.gz')]));
  assert.equal(mixed.length, 11);
  assert.throws(() => listShards(join(dir, 'nope')), /no data folder .*nanochat data download/);
  const empty = mkdtempSync(join(tmpdir(), 'nanochat-empty-'));
  assert.throws(() => listShards(empty), /no shards \(\.parquet, \.jsonl/);
  rmSync(empty, { recursive: true });
});
