// Our splitter + BPE must give exactly tiktoken's ids for the same ranks: with GPT-2 and cl100k as
// published, and with our own pattern (the reference's possessive spelling run by tiktoken's
// fancy-regex over cl100k ranks). On adversarial text, fuzzed text and every data set we have.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allPeers, boundaryPeers, ADVERSARIAL, fuzzStrings, dataSamples } from './helpers.js';
import { Splitter, safeCuts, regexSplit, type PatternName } from '../../src/tokenizer/pattern.js';

function assertSameIds(peerName: string, ours: number[], theirs: Uint32Array, what: string): void {
  if (ours.length === theirs.length && ours.every((x, i) => x === theirs[i])) return;
  let i = 0;
  while (i < ours.length && ours[i] === theirs[i]) i++;
  assert.fail(`${peerName}: ids differ on ${what} at token ${i}: ours ${JSON.stringify(ours.slice(i, i + 8))} tiktoken ${JSON.stringify([...theirs.slice(i, i + 8)])}`);
}

test('adversarial text: ids equal tiktoken (gpt2, cl100k_base, our pattern)', () => {
  for (const peer of allPeers()) {
    for (const text of ADVERSARIAL) assertSameIds(peer.name, peer.ours.encode(text), peer.theirs.encode_ordinary(text), JSON.stringify(text));
    const all = ADVERSARIAL.join('');
    assertSameIds(peer.name, peer.ours.encode(all), peer.theirs.encode_ordinary(all), 'all adversarial strings joined');
  }
});

test('3,000 fuzzed strings of tricky characters: ids equal tiktoken', () => {
  const fuzz = fuzzStrings(3000);
  for (const peer of allPeers()) {
    for (const text of fuzz) assertSameIds(peer.name, peer.ours.encode(text), peer.theirs.encode_ordinary(text), JSON.stringify(text));
  }
});

test('chunk boundaries themselves equal the reference regexes (pairs vocabulary)', () => {
  const texts = [...ADVERSARIAL, ...fuzzStrings(3000, 777), "'ſt", "x'ſt'St"];
  for (const peer of boundaryPeers()) {
    for (const text of texts) assertSameIds(peer.name, peer.ours.encode(text), peer.theirs.encode_ordinary(text), JSON.stringify(text));
  }
});

test('every data set: ids equal tiktoken', (t) => {
  const samples = dataSamples(30_000);
  if (!samples) {
    t.skip('NANOCHAT_DATA_MIRROR is not set (CI sets it to ../shared/data)');
    return;
  }
  assert.ok(samples.length >= 20, `expected the data mirror's files, found ${samples.length}`);
  for (const peer of allPeers()) {
    for (const s of samples) assertSameIds(peer.name, peer.ours.encode(s.text), peer.theirs.encode_ordinary(s.text), s.file);
  }
});

test('the scanner gives the same chunks as the regexes (adversarial, fuzz, data sets)', () => {
  const texts = [...ADVERSARIAL, ...fuzzStrings(3000, 4242), ...(dataSamples(10_000) ?? []).map((s) => s.text)];
  for (const name of ['gpt4-digits2', 'cl100k', 'gpt2'] as PatternName[]) {
    const sp = new Splitter(name);
    for (const t of texts) assert.deepEqual(sp.split(t), regexSplit(name, t), `${name}: ${JSON.stringify(t.slice(0, 80))}`);
  }
});

test('chunks concatenate to the text; lone surrogates become U+FFFD', () => {
  const sp = new Splitter('gpt4-digits2');
  for (const text of [...ADVERSARIAL, ...fuzzStrings(500)]) {
    const wf = (text as unknown as { toWellFormed(): string }).toWellFormed();
    assert.equal(sp.split(text).join(''), wf);
  }
  assert.deepEqual(sp.split("12345 it's"), ['12', '34', '5', ' it', "'s"]);
  assert.deepEqual(sp.split('a  \n\n b'), ['a', '  \n\n', ' b']);
  assert.deepEqual(sp.split('x   y'), ['x', '  ', ' y']);
  assert.deepEqual(new Splitter('cl100k').split('12345'), ['123', '45']);
});

test('safe cuts: encoding the parts gives the ids of the whole', () => {
  const samples = dataSamples(20_000) ?? [{ file: 'adversarial', text: ADVERSARIAL.join('\nword ') }];
  const text = samples.map((s) => s.text).join('\n\n') + '\nword x\n\nWord\r\nWord \nWord.\nWord';
  for (const peer of allPeers()) {
    const whole = peer.ours.encode(text);
    const cuts = safeCuts(text, 64);
    assert.ok(cuts.length > 10);
    const parts: number[] = [];
    let last = 0;
    for (const c of [...cuts, text.length]) {
      parts.push(...peer.ours.encode(text.slice(last, c)));
      last = c;
    }
    assert.deepEqual(parts, whole, peer.name);
  }
});
