// BPE training: hand-computable merges (with the tie-break), early stop, determinism, specials layout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainBpe } from '../../src/tokenizer/bpe-train.js';
import { countChunks } from '../../src/tokenizer/chunk-count.js';
import { trainTokenizer, cappedDocs } from '../../src/tokenizer/train.js';
import { saveTokenizer, RANKS_FILE, TOKEN_BYTES_FILE } from '../../src/tokenizer/io.js';
import { SPECIAL_TOKENS } from '../../src/tokenizer/types.js';
import { fuzzStrings, ADVERSARIAL, dataSamples } from './helpers.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test('merges by hand: most frequent pair first, ties to the smaller (left, right) pair, overlaps left to right', () => {
  // chunks: "aaaa" x1, "ba" x1, " dc" x1. Pair counts: (a,a)=3 (overlapping), the rest 1 each.
  const counts = new Map([['aaaa', 1], ['ba', 1], [' dc', 1]]);
  const r = trainBpe(counts, 100);
  assert.deepEqual(r.merges, [
    [97, 97], // 'aa' (count 3) -> 256; "aaaa" becomes [256, 256]
    [32, 100], // tie at 1 among (32,100) (98,97) (100,99) (256,256): smallest is (32,100) -> 257
    [98, 97], // now (98,97) (256,256) (257,99): 'ba' -> 258
    [256, 256], // 'aaaa' -> 259
    [257, 99], // ' dc' -> 260
  ]);
  assert.deepEqual(r.tokens.slice(256).map(dec), ['aa', ' d', 'ba', 'aaaa', ' dc']);
});

/** The obvious, slow algorithm: recount every pair from scratch before each merge. */
function naiveBpe(counts: Map<string, number>, numMerges: number): [number, number][] {
  const words = [...counts].map(([w, c]) => ({ ids: [...new TextEncoder().encode(w)], c }));
  const merges: [number, number][] = [];
  for (let m = 0; m < numMerges; m++) {
    const pc = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.ids.length; i++) {
      const k = `${w.ids[i]},${w.ids[i + 1]}`;
      pc.set(k, (pc.get(k) ?? 0) + w.c);
    }
    let best: [number, number] | undefined;
    let bestC = 0;
    for (const [k, c] of pc) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestC || (c === bestC && best && (a < best[0] || (a === best[0] && b < best[1])))) [best, bestC] = [[a, b], c];
    }
    if (!best) break;
    merges.push(best);
    const z = 256 + m;
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.ids.length; i++) {
        if (i + 1 < w.ids.length && w.ids[i] === best[0] && w.ids[i + 1] === best[1]) {
          out.push(z);
          i++;
        } else out.push(w.ids[i]);
      }
      w.ids = out;
    }
  }
  return merges;
}

test('incremental training equals the naive algorithm (300 merges on real and fuzzed text)', async () => {
  const samples = dataSamples(3_000);
  const docs = [...(samples ? samples.slice(0, 30).map((s) => s.text) : []), ...ADVERSARIAL, ...fuzzStrings(300, 5)];
  const counts = await countChunks(docs, { pattern: 'gpt4-digits2', threads: 0 });
  assert.deepEqual(trainBpe(counts, 300).merges, naiveBpe(counts, 300));
  const runs = new Map([['aaaaaaa', 3], ['abababa', 2], ['aab', 1], ['baaab', 2]]);
  assert.deepEqual(trainBpe(runs, 20).merges, naiveBpe(runs, 20));
});

test('chunk counts weight the pairs; training stops when no pair is left', () => {
  const counts = new Map([['ab', 5], ['bc', 3], ['cd', 4]]);
  const r = trainBpe(counts, 10);
  assert.deepEqual(r.merges, [[97, 98], [99, 100], [98, 99]]);
});

test('end to end: split, count, merge; specials take the last 9 ids; encode reproduces the training', async () => {
  const docs = ['the cat sat on the mat. the cat ate the rat.', 'the the the 123456'];
  const { tokenizer, stats } = await trainTokenizer(docs, { vocabSize: 300, threads: 1 });
  assert.equal(tokenizer.vocabSize, 256 + stats.merges + 9);
  assert.ok(stats.merges > 10 && stats.merges <= 300 - 265);
  SPECIAL_TOKENS.forEach((s, i) => assert.equal(tokenizer.specialId(s), tokenizer.vocabSize - 9 + i));
  assert.equal(tokenizer.bosId(), tokenizer.vocabSize - 9);
  // chunks "the" x2 and " the" x5: 'he' (7) ties 'th' (7); (104,101) < (116,104) so 'he' is first
  assert.equal(dec(tokenizer.tokens[256]!), 'he');
  assert.equal(tokenizer.encode(' the').length, 1);
  assert.deepEqual(tokenizer.encode('123456').map((id) => dec(tokenizer.tokens[id]!)), ['12', '34', '56']);
});

test('deterministic: same data gives the same files, whatever the thread count', async () => {
  const samples = dataSamples(20_000);
  const docs = samples ? samples.map((s) => s.text) : [...ADVERSARIAL, ...fuzzStrings(2000)];
  const a = await trainTokenizer(docs, { vocabSize: 2000, threads: 1 });
  const b = await trainTokenizer(docs, { vocabSize: 2000, threads: 2 });
  const da = saveTokenizer(a.tokenizer, mkdtempSync(join(tmpdir(), 'tok-a-')));
  const db = saveTokenizer(b.tokenizer, mkdtempSync(join(tmpdir(), 'tok-b-')));
  for (const f of [RANKS_FILE, TOKEN_BYTES_FILE]) assert.ok(readFileSync(join(da, f)).equals(readFileSync(join(db, f))), f);
  assert.equal(a.tokenizer.vocabSize, 2000);
});

test('parallel chunk counting equals counting on one thread', async () => {
  const docs = [...ADVERSARIAL, ...fuzzStrings(5000, 99)];
  const one = await countChunks(docs, { pattern: 'gpt4-digits2', threads: 0 });
  const two = await countChunks(docs, { pattern: 'gpt4-digits2', threads: 2, batchChars: 1000 });
  assert.deepEqual(new Map([...two].sort()), new Map([...one].sort()));
});

test('documents are capped without splitting a surrogate pair; max chars stops after the document that crosses it', async () => {
  const out: string[] = [];
  for await (const d of cappedDocs(['abc😀def', 'xyz', 'never'], 5, 4)) out.push(d);
  assert.deepEqual(out, ['abc', 'xyz']);
});
