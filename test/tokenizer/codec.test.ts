// Encoding and decoding: specials never from plain text, byte-exact round trips, streaming decoding,
// save/load, corrupt files, and the worker pool.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainTokenizer } from '../../src/tokenizer/train.js';
import { saveTokenizer, loadTokenizer, RANKS_FILE, META_FILE, TOKEN_BYTES_FILE } from '../../src/tokenizer/io.js';
import { StreamDecoder } from '../../src/tokenizer/stream-decoder.js';
import { EncodePool } from '../../src/tokenizer/encode-pool.js';
import { ChunkCache } from '../../src/tokenizer/chunk-cache.js';
import { loadPublicVocab } from '../../src/tokenizer/public-vocabs.js';
import type { BpeTokenizer } from '../../src/tokenizer/bpe.js';
import { SPECIAL_TOKENS } from '../../src/tokenizer/types.js';
import { UserError } from '../../src/common/errors.js';
import { ADVERSARIAL, fuzzStrings, dataSamples } from './helpers.js';

let tok: BpeTokenizer;
const corpus = [...(dataSamples(5_000)?.map((s) => s.text) ?? []), ...ADVERSARIAL, 'Hello 世界 😀 <|bos|> héllo 한국어'];

before(async () => {
  tok = (await trainTokenizer(corpus, { vocabSize: 1500, threads: 1 })).tokenizer;
});

test('plain encode never produces special tokens, even for their spellings', () => {
  const text = SPECIAL_TOKENS.join(' x ') + '<|endoftext|><|bos|>';
  for (const t of [tok, loadPublicVocab('cl100k_base')]) {
    const ids = t.encode(text);
    assert.ok(ids.every((id) => !t.isSpecial(id)));
    assert.equal(t.decode(ids), text);
  }
});

test('encodeWithSpecials turns the spellings into the special ids (and only the allowed ones)', () => {
  const ids = tok.encodeWithSpecials('<|bos|>hi<|user_start|>x<|user_end|>');
  assert.equal(ids[0], tok.bosId());
  assert.ok(ids.includes(tok.specialId('<|user_start|>')) && ids.includes(tok.specialId('<|user_end|>')));
  assert.deepEqual(ids.slice(1, ids.indexOf(tok.specialId('<|user_start|>'))), tok.encode('hi'));
  const only = tok.encodeWithSpecials('<|bos|><|user_end|>', ['<|bos|>']);
  assert.equal(only[0], tok.bosId());
  assert.ok(!only.slice(1).some((id) => tok.isSpecial(id)));
  assert.equal(tok.decode(ids), '<|bos|>hi<|user_start|>x<|user_end|>');
  assert.equal(loadPublicVocab('gpt2').bosId(), 50256); // <|endoftext|> delimits documents there
});

test('decode is byte-exact: round trips on adversarial, fuzzed and data-set text', () => {
  const enc = new TextEncoder();
  for (const text of [...corpus, ...fuzzStrings(1000, 3)]) {
    const wf = (text as unknown as { toWellFormed(): string }).toWellFormed();
    const ids = tok.encode(text);
    assert.deepEqual([...tok.encodeIds(text)], ids);
    assert.deepEqual(tok.decodeBytes(ids), enc.encode(wf));
    assert.equal(tok.decode(ids), wf);
  }
});

test('the chunk cache starts over at its limit without changing any ids', () => {
  const cache = new ChunkCache(3);
  const words = ['alpha', ' beta', ' gamma', ' delta', 'alpha'];
  const entries = words.map((w) => {
    const h = ChunkCache.hash(w, 0, w.length);
    const e = cache.find(w, 0, w.length, h);
    return e >= 0 ? e : cache.add(w, h, [w.length, 7]);
  });
  assert.ok(cache.size <= 3);
  const out: number[] = [];
  cache.emit(entries[4], out);
  assert.deepEqual(out, [5, 7]);
  const found = cache.find('xx alpha', 3, 8, ChunkCache.hash('alpha', 0, 5));
  assert.equal(found, entries[4]); // found in place, inside a longer text
});

test('tokenBytes: byte length of every id, 0 for specials', () => {
  const tb = tok.tokenBytes();
  assert.equal(tb.length, tok.vocabSize);
  for (let id = 0; id < tok.vocabSize; id++) assert.equal(tb[id], tok.isSpecial(id) ? 0 : tok.bytesOf(id).length);
});

test('streaming decoder never emits a split character, at every split point', () => {
  // byte-level tokens: every emoji / CJK character is split into 3-4 single-byte ids
  const text = '\ufeff😀 日本語 한국어 e\u0301 👨‍👩‍👧 ok';
  const byteIds = [...new TextEncoder().encode(text)];
  const cl = loadPublicVocab('cl100k_base');
  const cases: [BpeTokenizer, number[]][] = [[tok, byteIds], [tok, tok.encode(text)], [cl, cl.encode(text)]];
  for (const [t, ids] of cases) {
    const d = new StreamDecoder(t);
    let all = '';
    for (const id of ids) {
      const piece = d.push(id);
      assert.ok(!piece.includes('\ufffd'), `replacement char after id ${id}`);
      const last = piece.charCodeAt(piece.length - 1);
      assert.ok(!(last >= 0xd800 && last <= 0xdbff), 'split surrogate pair');
      all += piece;
    }
    all += d.flush();
    assert.equal(all, text);
  }
  const d = new StreamDecoder(tok);
  assert.equal(d.push(0xf0), '');
  assert.equal(d.push(0x9f), '');
  assert.equal(d.flush(), '\ufffd'); // an incomplete character at the end is replaced, not dropped
});

test('save and load round trip: same ids, same specials, same token bytes', () => {
  const dir = saveTokenizer(tok, mkdtempSync(join(tmpdir(), 'tok-')));
  const back = loadTokenizer(dir);
  assert.equal(back.vocabSize, tok.vocabSize);
  assert.deepEqual(back.tokenBytes(), tok.tokenBytes());
  for (const s of SPECIAL_TOKENS) assert.equal(back.specialId(s), tok.specialId(s));
  for (const text of corpus) assert.deepEqual(back.encode(text), tok.encode(text));
  const lines = readFileSync(join(dir, RANKS_FILE), 'utf8').trim().split('\n');
  assert.equal(lines.length, tok.vocabSize - 9);
  assert.match(lines[256], /^[A-Za-z0-9+/]+=* 256$/);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, TOKEN_BYTES_FILE), 'utf8')), [...tok.tokenBytes()]);
});

test('missing or corrupt tokenizer: a UserError naming `nanochat tok-train`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof UserError && /nanochat tok-train/.test(e.message));
  saveTokenizer(tok, dir);
  const ranks = readFileSync(join(dir, RANKS_FILE), 'utf8');
  writeFileSync(join(dir, RANKS_FILE), ranks.slice(0, ranks.length / 2));
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof UserError && /corrupt.*checksum.*nanochat tok-train/.test(e.message));
  writeFileSync(join(dir, RANKS_FILE), ranks);
  writeFileSync(join(dir, META_FILE), '{not json');
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof UserError && /corrupt.*nanochat tok-train/.test(e.message));
  rmSync(dir, { recursive: true });
});

test('worker pool: batch and large-text encoding equal single-threaded encoding', async () => {
  const cl = loadPublicVocab('cl100k_base');
  const pool = new EncodePool(cl, 2);
  try {
    const docs = [...corpus, ...fuzzStrings(200, 8)];
    const batch = await pool.encodeBatch(docs);
    docs.forEach((d, i) => assert.deepEqual([...batch[i]], cl.encode(d)));
    const big = docs.join('\nWord ');
    assert.deepEqual([...(await pool.encodeLarge(big))], cl.encode(big));
  } finally {
    await pool.close();
  }
});
