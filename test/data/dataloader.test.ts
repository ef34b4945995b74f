import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BestFitLoader } from '../../src/data/dataloader.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';

const tok = new ByteTokenizer();
const BOS = tok.bosId();

/** Two shards of documents of known lengths ("a" x n, "b" x n, ...). */
function shards(lengths: number[][]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'loader-'));
  return lengths.map((ls, s) => {
    const f = join(dir, `shard_${s}.jsonl`);
    writeFileSync(f, ls.map((n, i) => JSON.stringify({ text: String.fromCharCode(97 + ((s * 7 + i) % 26)).repeat(n) })).join('\n') + '\n');
    return f;
  });
}

test('rows start with BOS, targets are inputs shifted by one, and best-fit packs whole documents', async () => {
  // row = T+1 = 11 tokens; documents are BOS + n bytes: 5, 6, 4, 3 tokens for n = 4, 5, 3, 2
  const files = shards([[4, 5, 3, 2]]);
  const loader = new BestFitLoader(tok, files, 1, 10, { bufferSize: 4, loop: false });
  const b = (await loader.nextBatch())!;
  for (let r = 0; r < 1; r++) {
    assert.equal(b.inputs[r * 10], BOS, `row ${r} starts with BOS`);
    for (let t = 0; t < 9; t++) assert.equal(b.targets[r * 10 + t], b.inputs[r * 10 + t + 1]);
  }
  // row 0: the largest that fits 11 is the 6-token doc, then 5 (total 11): no cropping needed
  const row0 = [...b.inputs.subarray(0, 10), b.targets[9]];
  assert.deepEqual(row0, [BOS, ...Buffer.from('bbbbb'), BOS, ...Buffer.from('aaaa')]);
  // 4 + 3 = 7 tokens are left, less than a row, and nothing more to read: an evaluation loader is done
  assert.equal(await loader.nextBatch(), null);
});

test('when no document fits, the shortest is cropped to fill the row exactly', async () => {
  const files = shards([[30, 20, 25]]);
  const loader = new BestFitLoader(tok, files, 1, 10, { bufferSize: 3 });
  const b = (await loader.nextBatch())!;
  // shortest is the 21-token doc ("b" x 20): BOS + 9 b's in inputs, a 10th b as the last target
  assert.deepEqual([...b.inputs], [BOS, ...Buffer.from('b'.repeat(9))]);
  assert.equal(b.targets[9], 98);
});

test('a restored state gives exactly the batches the original loader gives next', async () => {
  const lengths = [Array.from({ length: 40 }, (_, i) => 3 + ((i * 17) % 29)), Array.from({ length: 30 }, (_, i) => 2 + ((i * 11) % 23))];
  const files = shards(lengths);
  const a = new BestFitLoader(tok, files, 3, 16, { bufferSize: 8 });
  for (let i = 0; i < 7; i++) await a.nextBatch();
  const state = JSON.parse(JSON.stringify(a.state()));
  const b = new BestFitLoader(tok, files, 3, 16, { bufferSize: 8, state });
  for (let i = 0; i < 12; i++) { // crosses the shard boundary and the epoch wrap
    const x = (await a.nextBatch())!, y = (await b.nextBatch())!;
    assert.deepEqual([...y.inputs], [...x.inputs], `batch ${i} after restore differs`);
    assert.deepEqual([...y.targets], [...x.targets]);
  }
  assert.ok(a.state().next.epoch >= 1, 'the test should run into the second epoch');
});

test('documents are interleaved across shards (doc 0 of each shard, then doc 1, ...), short shards skipped', async () => {
  // shard s holds documents of one letter each: 'a..', 'h..', 'o..' (letters 97 + 7s + i); lengths keep one per row
  const files = shards([[6, 6, 6], [6], [6, 6]]);
  const loader = new BestFitLoader(tok, files, 1, 6, { bufferSize: 1, loop: false });
  const firstLetters: string[] = [];
  for (let i = 0; i < 6; i++) firstLetters.push(String.fromCharCode((await loader.nextBatch())!.inputs[1]));
  // stream order: s0d0 s1d0 s2d0 s0d1 s2d1 s0d2
  assert.deepEqual(firstLetters, ['a', 'h', 'o', 'b', 'p', 'c']);
  assert.equal(await loader.nextBatch(), null);
});
