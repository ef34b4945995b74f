import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BestFitLoader, type LoaderState } from '../../src/data/dataloader.js';
import { readDocSet, splitShards, type DocSet } from '../../src/data/shards.js';
import type { Batch } from '../../src/data/batch.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';
import { writeDocShard } from './helpers.js';

const tok = new ByteTokenizer();
const BOS = tok.bosId();
const all = (files: string[]): DocSet => ({ files, docs: 'all' });

/** Shards of documents of known lengths ("a" x n, "b" x n, ...). */
function shards(lengths: number[][]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'loader-'));
  return lengths.map((ls, s) => {
    const f = join(dir, `shard_${s}.jsonl`);
    writeFileSync(f, ls.map((n, i) => JSON.stringify({ text: String.fromCharCode(97 + ((s * 7 + i) % 26)).repeat(n) })).join('\n') + '\n');
    return f;
  });
}

const WORDS = 'the cell divides when its chromosomes have been copied and the spindle pulls them apart into two nuclei'.split(' ');

/** A document of about `words` words that names itself, so every document's text is distinct. */
const docText = (name: string, words: number) =>
  `${name}: ${Array.from({ length: words }, (_, j) => WORDS[(j * 7 + name.length * 3 + words) % WORDS.length]).join(' ')}`;

/**
 * A corpus of a parquet and two jsonl shards, most documents longer than a row of the tests (33
 * tokens): 6 to 600 bytes. `perShard` documents each.
 */
function corpus(perShard: number, dir = mkdtempSync(join(tmpdir(), 'loader-corpus-'))): { files: string[]; texts: string[][] } {
  const texts = [0, 1, 2].map((s) => Array.from({ length: perShard }, (_, i) => docText(`s${s}d${i}`, (i * 37 + s * 11) % 100)));
  const files = texts.map((t, s) => writeDocShard(join(dir, `shard_${s}.${s === 0 ? 'parquet' : 'jsonl'}`), t));
  return { files, texts };
}

/** The tokens of each row of a batch: its inputs and its last target, without the padding of a last row (target -1). */
function rowsOf(b: Batch, T: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < b.targets.length / T; r++) {
    const row = [b.inputs[r * T]];
    for (let t = 0; t < T && b.targets[r * T + t] !== -1; t++) row.push(b.targets[r * T + t]);
    rows.push(row);
  }
  return rows;
}

/** Every row of a non-looping loader, in order. */
async function drain(loader: BestFitLoader): Promise<number[][]> {
  const rows: number[][] = [];
  for (let b = await loader.nextBatch(); b; b = await loader.nextBatch()) rows.push(...rowsOf(b, loader.T));
  return rows;
}

/**
 * The documents in a run of rows: a cut document continues at the start of the next row, so the rows
 * laid end to end are the documents one after another, each starting at its BOS. The last may be partial.
 */
function documentsIn(rows: number[][]): string[] {
  const flat = rows.flat();
  const docs: string[] = [];
  for (let i = 0; i < flat.length; i++) {
    assert.ok(i > 0 || flat[0] === BOS, 'the stream starts at a document');
    if (flat[i] === BOS) docs.push('');
    else docs[docs.length - 1] += String.fromCharCode(flat[i]);
  }
  // the fixtures are ASCII: one byte per character
  return docs;
}

/** Two shards of documents of 3 to 31 bytes. */
const SHORT_DOCS = [Array.from({ length: 40 }, (_, i) => 3 + ((i * 17) % 29)), Array.from({ length: 30 }, (_, i) => 2 + ((i * 11) % 23))];

/** The held-out rule written out here, as the reference the loader is checked against. */
const heldOutRef = (text: string) => createHash('sha256').update(text).digest().readUInt32BE(0) % 100 < 5;

test('rows start with BOS, targets are inputs shifted by one, and best-fit packs whole documents', async () => {
  // row = T+1 = 11 tokens; documents are BOS + n bytes: 5, 6, 4, 3 tokens for n = 4, 5, 3, 2
  const loader = new BestFitLoader(tok, all(shards([[4, 5, 3, 2]])), 1, 10, { bufferSize: 4, loop: false });
  const b = (await loader.nextBatch())!;
  assert.equal(b.inputs[0], BOS);
  for (let t = 0; t < 9; t++) assert.equal(b.targets[t], b.inputs[t + 1]);
  // row 0: the largest that fits 11 is the 6-token doc, then 5 (total 11): no cut needed
  assert.deepEqual([...b.inputs, b.targets[9]], [BOS, ...Buffer.from('bbbbb'), BOS, ...Buffer.from('aaaa')]);
  // the 4 + 3 = 7 tokens left are less than a row: an evaluation loader still gives them, as a last
  // row padded with targets of -1 (the old loader dropped them), then nothing
  const last = (await loader.nextBatch())!;
  assert.equal(last.B, 1);
  assert.deepEqual(rowsOf(last, 10), [[BOS, ...Buffer.from('ccc'), BOS, ...Buffer.from('dd')]]);
  assert.deepEqual([...last.targets.subarray(6)], [-1, -1, -1, -1]);
  assert.equal(await loader.nextBatch(), null);
});

test('when no document fits, the oldest starts in the space left and its rest continues in the next rows', async () => {
  // the old loader cropped the shortest document to fill the row and dropped the rest; now nothing is dropped
  const loader = new BestFitLoader(tok, all(shards([[25, 20, 30]])), 1, 10, { bufferSize: 3 });
  const row = async () => rowsOf((await loader.nextBatch())!, 10)[0];
  // the oldest is the 26-token doc ("a" x 25): BOS + 10 a's fill row 0, 10 more row 1, without a BOS
  assert.deepEqual(await row(), [BOS, ...Buffer.from('a'.repeat(10))]);
  assert.deepEqual(await row(), [...Buffer.from('a'.repeat(11))]);
  // row 2: its last 4 a's; in the 7 left nothing fits, so the next oldest ("b" x 20) starts there
  assert.deepEqual(await row(), [...Buffer.from('aaaa'), BOS, ...Buffer.from('bbbbbb')]);
  assert.deepEqual(loader.state().buffered[0], { epoch: 0, shard: 0, doc: 1, offset: 7 });
  assert.deepEqual(await row(), [...Buffer.from('b'.repeat(11))]);
});

test('one epoch puts every token of every document in the rows once, documents longer than a row included', async () => {
  const { files, texts } = corpus(40);
  const T = 32;
  const want = texts.flat();
  assert.ok(want.filter((t) => t.length + 1 > T + 1).length > want.length / 2, 'most documents are longer than a row');
  // reference count: every byte of every document plus its BOS
  const corpusTokens = want.reduce((n, t) => n + Buffer.byteLength(t) + 1, 0);
  const loader = new BestFitLoader(tok, all(files), 4, T, { bufferSize: 8, loop: false });
  assert.equal(await loader.epochTokens(), corpusTokens);
  const rows = await drain(loader);
  assert.equal(rows.flat().length, corpusTokens, 'tokens in the rows = tokens of the corpus');
  assert.ok(rows.slice(0, -1).every((r) => r.length === T + 1), 'only the last row is short');
  // and they are the corpus's documents, each whole and once (not just the same count)
  assert.deepEqual(documentsIn(rows).sort(), [...want].sort());
  assert.ok(rows.filter((r) => r[0] !== BOS).length > rows.length / 2, 'most rows continue a cut document');
  assert.equal(loader.epochs(), 1);
});

test('a training loader counts its epochs: tokens placed in rows over the tokens of the set', async () => {
  const { files, texts } = corpus(10);
  const corpusTokens = texts.flat().reduce((n, t) => n + Buffer.byteLength(t) + 1, 0);
  const loader = new BestFitLoader(tok, all(files), 2, 32, { bufferSize: 4 });
  assert.ok(Number.isNaN(loader.epochs()), 'unknown before the set is counted');
  await loader.epochTokens();
  const batches = Math.ceil((2.5 * corpusTokens) / (2 * 33));
  for (let i = 0; i < batches; i++) await loader.nextBatch();
  assert.equal(loader.epochs(), (batches * 2 * 33) / corpusTokens);
  assert.ok(loader.state().next.epoch >= 2, 'the stream itself is in its third epoch');
});

test('a state taken in the middle of a long document resumes with exactly the same batches', async () => {
  const { files } = corpus(10);
  const a = new BestFitLoader(tok, all(files), 3, 32, { bufferSize: 8 });
  await a.epochTokens();
  let state: LoaderState | undefined;
  for (let i = 0; i < 200 && !state; i++) {
    await a.nextBatch();
    const s = a.state();
    // a cut document that is not at its first row: at least one whole row of it is behind
    if ((s.buffered[0].offset ?? 0) > 33) state = JSON.parse(JSON.stringify(s));
  }
  assert.ok(state, 'the loader should cut a long document between batches');
  const b = new BestFitLoader(tok, all(files), 3, 32, { bufferSize: 8, state });
  await b.epochTokens();
  assert.equal(b.epochs(), a.epochs(), 'the epoch count resumes too');
  for (let i = 0; i < 200; i++) { // 200 x 99 tokens: past the epoch wrap
    const x = (await a.nextBatch())!, y = (await b.nextBatch())!;
    assert.deepEqual([...y.inputs], [...x.inputs], `batch ${i} after restore differs`);
    assert.deepEqual([...y.targets], [...x.targets]);
  }
  assert.deepEqual(b.state(), a.state());
  assert.ok(a.state().next.epoch > state!.next.epoch, 'the test should run into the next epoch');
});

test('a state restored twice in a row (saved before any batch) is the same state', async () => {
  const files = shards(SHORT_DOCS);
  const a = new BestFitLoader(tok, all(files), 3, 16, { bufferSize: 8 });
  for (let i = 0; i < 7; i++) await a.nextBatch();
  const state = JSON.parse(JSON.stringify(a.state()));
  const b = new BestFitLoader(tok, all(files), 3, 16, { bufferSize: 8, state });
  assert.deepEqual(b.state(), state, 'a checkpoint saved right after a resume keeps the position');
  for (let i = 0; i < 12; i++) {
    assert.deepEqual([...(await b.nextBatch())!.inputs], [...(await a.nextBatch())!.inputs], `batch ${i}`);
  }
});

test('a state without offsets (a checkpoint from before cut documents) resumes', async () => {
  const files = shards(SHORT_DOCS);
  const a = new BestFitLoader(tok, all(files), 1, 16, { bufferSize: 8 });
  let old: LoaderState | undefined;
  for (let i = 0; i < 200 && !old; i++) {
    await a.nextBatch();
    const s = a.state();
    // between rows that ended exactly at a document's end nothing is cut: the state an old loader saved
    if (s.buffered.every((p) => p.offset === undefined)) {
      old = { next: s.next, buffered: s.buffered.map(({ epoch, shard, doc }) => ({ epoch, shard, doc })) };
    }
  }
  assert.ok(old, 'some row should end exactly at a document end');
  assert.ok(!JSON.stringify(old).includes('offset') && !JSON.stringify(old).includes('tokens'));
  const b = new BestFitLoader(tok, all(files), 1, 16, { bufferSize: 8, state: JSON.parse(JSON.stringify(old)) });
  for (let i = 0; i < 40; i++) {
    assert.deepEqual([...(await b.nextBatch())!.inputs], [...(await a.nextBatch())!.inputs], `batch ${i} after restore differs`);
  }
});

test('held-out documents are never in training batches; validation reads exactly them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loader-split-'));
  const { files, texts } = corpus(60, dir);
  writeDocShard(join(dir, 'z_out_of_domain.jsonl'), ['an essay on writing', 'a second essay']);
  const split = splitShards([...files, join(dir, 'z_out_of_domain.jsonl')]);
  const heldOut = texts.flat().filter(heldOutRef), trained = texts.flat().filter((t) => !heldOutRef(t));
  assert.ok(heldOut.length >= 3, `the fixture should hold some documents out (${heldOut.length} of 180)`);
  // training: two epochs of rows, every document in them one of the trained ones, each of those in them
  const loader = new BestFitLoader(tok, split.train, 4, 32, { bufferSize: 8 });
  const epoch = await loader.epochTokens();
  assert.equal(epoch, trained.reduce((n, t) => n + t.length + 1, 0));
  const rows: number[][] = [];
  while (rows.length * 33 < 2 * epoch) rows.push(...rowsOf((await loader.nextBatch())!, 32));
  const seen = documentsIn(rows).slice(0, -1); // the last may be partial
  const held = new Set(heldOut), train = new Set(trained);
  assert.deepEqual(seen.filter((d) => held.has(d)), [], 'a held-out document was trained on');
  assert.deepEqual(seen.filter((d) => !train.has(d)), [], 'rows hold only whole training documents');
  assert.deepEqual(new Set(seen), train, 'every training document is in the rows');
  // validation: the held-out documents, whole; the out-of-domain shard only in its own set
  const val = await drain(new BestFitLoader(tok, split.val, 4, 32, { bufferSize: 1, loop: false }));
  assert.deepEqual(documentsIn(val).sort(), [...heldOut].sort());
  assert.ok(!seen.includes('an essay on writing'));
  const ood: string[] = [];
  for await (const d of readDocSet(split.outOfDomain!)) ood.push(d);
  assert.deepEqual(ood, ['an essay on writing', 'a second essay']);
});

test('a one-shard folder splits by documents: train and val are disjoint and cover the shard', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loader-one-'));
  const texts = Array.from({ length: 120 }, (_, i) => docText(`only${i}`, 5 + (i % 40)));
  const file = writeDocShard(join(dir, 'only.parquet'), texts);
  const split = splitShards([file]);
  assert.equal(split.outOfDomain, null, 'no separate shard, no out-of-domain figure');
  const read = async (set: DocSet) => {
    const out: string[] = [];
    for await (const d of readDocSet(set)) out.push(d);
    return out;
  };
  const train = await read(split.train), val = await read(split.val);
  assert.ok(val.length > 0 && train.length > val.length, `${train.length} train, ${val.length} val`);
  assert.deepEqual(val, texts.filter(heldOutRef));
  assert.deepEqual(train.filter((t) => val.includes(t)), []);
  assert.deepEqual([...train, ...val].sort(), [...texts].sort());
  // and the training rows of that shard never hold a validation document
  const rows = await drain(new BestFitLoader(tok, split.train, 2, 32, { bufferSize: 4, loop: false }));
  assert.deepEqual(documentsIn(rows).sort(), [...train].sort());
});

test('documents are interleaved across shards (doc 0 of each shard, then doc 1, ...), short shards skipped', async () => {
  // shard s holds documents of one letter each: 'a..', 'h..', 'o..' (letters 97 + 7s + i); lengths keep one per row
  const files = shards([[6, 6, 6], [6], [6, 6]]);
  const loader = new BestFitLoader(tok, all(files), 1, 6, { bufferSize: 1, loop: false });
  const firstLetters: string[] = [];
  for (let i = 0; i < 6; i++) firstLetters.push(String.fromCharCode((await loader.nextBatch())!.inputs[1]));
  // stream order: s0d0 s1d0 s2d0 s0d1 s2d1 s0d2
  assert.deepEqual(firstLetters, ['a', 'h', 'o', 'b', 'p', 'c']);
  assert.equal(await loader.nextBatch(), null);
});

test('a looping loader over a set without documents ends instead of spinning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loader-empty-'));
  const file = writeDocShard(join(dir, 'a.jsonl'), ['one short document']);
  const set: DocSet = { files: [file], docs: heldOutRef('one short document') ? 'train' : 'heldout' };
  assert.equal(await new BestFitLoader(tok, set, 1, 8).nextBatch(), null);
});
