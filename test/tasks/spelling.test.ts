import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderConversation } from '../../src/chat/render.js';
import { calculate } from '../../src/engine/calculator.js';
import { SimpleSpelling, SpellingBee, spellingBeeAnswer, spellingSeed, TEST_SEED_OFFSET } from '../../src/tasks/spelling.js';
import { loadWords } from '../../src/tasks/words.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';
import { dataOrSkip } from './data-dir.js';

test('spelling bee answer: spelled out, counted hit by hit, checked with python, "#### N"', () => {
  const parts = spellingBeeAnswer('strawberry', 'r');
  const text = parts.map((p) => p.text).join('');
  assert.match(text, /strawberry:s,t,r,a,w,b,e,r,r,y/);
  assert.match(text, /3:r hit! count=1\n/);
  assert.match(text, /9:r hit! count=3\n10:y\n/);
  assert.deepEqual(parts.filter((p) => p.type !== 'text'), [
    { type: 'python', text: "'strawberry'.count('r')" },
    { type: 'python_output', text: '3' },
  ]);
  assert.match(text, /#### 3$/);
});

test('train and test seeds never overlap', () => {
  assert.equal(spellingSeed('train', 0), 0);
  assert.equal(spellingSeed('test', 0), TEST_SEED_OFFSET);
  // the largest train seed is below the smallest test seed
  assert.ok(spellingSeed('train', TEST_SEED_OFFSET - 1) < spellingSeed('test', 0));
});

test('spelling tasks from the real word list', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const words = loadWords(dir);
  assert.equal(words.length, 370099); // 370,098 CRLF line ends plus a last word without one
  assert.ok(words.every((w) => !w.includes('\r')));
  assert.throws(() => new SpellingBee({ split: 'train', size: TEST_SEED_OFFSET + 1, dataDir: dir }), /cannot overlap/);

  const simple = new SimpleSpelling({ split: 'train', size: 500, dataDir: dir });
  const c = simple.get(0);
  const word = c.meta!.word as string;
  assert.equal(c.messages[0].content, `Spell the word: ${word}`);
  assert.equal(c.messages[1].content, `${word}:${word.split('').join(',')}`);
  assert.equal(simple.evaluate(c, `${word}:${word.split('').join(',')}`), true);

  const tok = new ByteTokenizer({ spellSpecials: true });
  const bee = new SpellingBee({ split: 'train', size: 300, dataDir: dir });
  const beeTest = new SpellingBee({ split: 'test', size: 300, dataDir: dir });
  const phrasings = new Set<string>();
  let zeros = 0;
  for (let i = 0; i < bee.size(); i++) {
    const conv = bee.get(i);
    const { word: w, letter, answer } = conv.meta as { word: string; letter: string; answer: string };
    assert.equal(Number(answer), w.split('').filter((ch) => ch === letter).length);
    if (answer === '0') zeros++;
    const parts = conv.messages[1].content;
    assert.ok(Array.isArray(parts));
    const call = parts.find((p) => p.type === 'python')!;
    const output = parts.find((p) => p.type === 'python_output')!;
    assert.deepEqual(calculate(call.text), { ok: true, value: answer }); // the tool agrees with the training data
    assert.equal(output.text, answer);
    assert.equal(bee.evaluate(conv, `... #### ${answer}`), true);
    assert.equal(bee.evaluate(conv, `#### ${Number(answer) + 1}`), false);
    // exact strings, as the reference (and its RL reward): "3.0" and "3." are not "3"
    assert.equal(bee.evaluate(conv, `#### ${answer}.0`), false);
    assert.equal(bee.reward(conv, `#### ${answer}.`), 0);
    const q = conv.messages[0].content as string;
    assert.ok(q.includes(w) && q.includes(letter));
    phrasings.add(q.replace(w, 'W').replace(/(['"]?)\b\w\b\1/, 'L').replace(/\?$/, '').toLowerCase());
    renderConversation(tok, conv);
  }
  assert.ok(phrasings.size > 15, `only ${phrasings.size} phrasings`);
  assert.ok(zeros > 0, 'some questions ask for a letter the word lacks');

  // deterministic, and independent of the task size
  assert.deepEqual(new SpellingBee({ split: 'train', size: 10, dataDir: dir }).get(7), bee.get(7));
  // train and test differ
  const trainQs = Array.from({ length: 300 }, (_, i) => bee.get(i).messages[0].content);
  const testQs = Array.from({ length: 300 }, (_, i) => beeTest.get(i).messages[0].content);
  assert.notDeepEqual(trainQs, testQs);
  // SimpleSpelling and SpellingBee do not draw the same words for the same index
  const simpleWords = Array.from({ length: 50 }, (_, i) => simple.get(i).meta!.word);
  const beeWords = Array.from({ length: 50 }, (_, i) => bee.get(i).meta!.word);
  assert.ok(simpleWords.filter((w, i) => w === beeWords[i]).length < 3);
});
