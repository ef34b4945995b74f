import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextStream } from '../../src/engine/text-stream.js';
import { Engine } from '../../src/engine/engine.js';
import { BpeTokenizer } from '../../src/tokenizer/bpe.js';
import { ourSpecials } from '../../src/tokenizer/bpe.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';
import { collect, ScriptedModel } from './helpers.js';

const tok = new ByteTokenizer();
const text = 'héllo 🙂 世界 — ok';

test('streaming never splits a multi-byte character, byte by byte', () => {
  const s = new TextStream(tok);
  const pieces = tok.encode(text).map((id) => s.push(id));
  pieces.push(s.flush());
  assert.equal(pieces.join(''), text);
  for (const p of pieces) assert.ok(!p.includes('\uFFFD'), JSON.stringify(p));
  // the 4 bytes of the emoji come out as one piece, on its last byte
  assert.ok(pieces.includes('🙂'));
  assert.equal(pieces.slice(0, -1).filter((p) => p === '').length, tok.encode(text).length - [...text].length);
});

test('streaming with multi-byte BPE tokens that cut characters in the middle', () => {
  // tokens: every byte, then merges that split the emoji's 4 bytes 3+1 and '世' 1+2
  const emoji = Buffer.from('🙂'), cjk = Buffer.from('世');
  const tokens: Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  tokens.push(Uint8Array.from(emoji.subarray(0, 3)), Uint8Array.from([0x20, ...cjk.subarray(0, 1)]), Uint8Array.from(cjk.subarray(1)));
  const bpe = new BpeTokenizer({ name: 't', tokens, pattern: 'gpt4-digits2', specials: ourSpecials(tokens.length) });
  const ids = [256, emoji[3], 257, 258];
  const s = new TextStream(bpe);
  const pieces = ids.map((id) => s.push(id));
  assert.deepEqual(pieces, ['', '🙂', ' ', '世']);
});

test('a special token ends a dangling partial character; tool markers render as <<expr=result>>', () => {
  const s = new TextStream(tok);
  const partial = Buffer.from('é').subarray(0, 1)[0];
  assert.equal(s.push(partial), '');
  assert.equal(s.push(tok.specialId('<|python_start|>')), '\uFFFD<<');
  assert.equal(s.push(tok.specialId('<|python_end|>')), '=');
  assert.equal(s.push(tok.specialId('<|output_start|>')), '');
  assert.equal(s.push(tok.specialId('<|output_end|>')), '>>');
  assert.equal(s.push(tok.bosId()), '');
});

test('engine text chunks carry whole characters and the last one the flushed tail', async () => {
  const script = [[...tok.encode('a🙂'), 0xe4]]; // ends with a dangling first byte of a 3-byte char
  const engine = new Engine(new ScriptedModel(tok.vocabSize, script), tok);
  const chunks = await collect(engine.streamText([tok.bosId()], { temperature: 0, maxTokens: 6 }));
  assert.deepEqual(chunks.map((c) => c.text), ['a', '', '', '', '🙂', '\uFFFD']);
  assert.equal(chunks[5].finish, 'length');
});
