import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARC } from '../../src/tasks/arc.js';
import { MMLU } from '../../src/tasks/mmlu.js';
import { multipleChoiceConversation, multipleChoicePrompt } from '../../src/tasks/multiple-choice.js';
import { dataOrSkip } from './data-dir.js';

test('multiple-choice prompt: question, "- choice=A" lines, instruction; answer is the letter', () => {
  assert.equal(
    multipleChoicePrompt('2+2?', ['3', '4'], ['A', 'B']),
    'Multiple Choice question: 2+2?\n- 3=A\n- 4=B\n\nRespond only with the letter of the correct answer.',
  );
  const conv = multipleChoiceConversation('2+2?', ['3', '4', '5'], 1);
  assert.deepEqual(conv.letters, ['A', 'B', 'C']);
  assert.deepEqual(conv.messages[1], { role: 'assistant', content: 'B' });
  assert.throws(() => multipleChoiceConversation('q', ['a'], 1), /not one of/);
});

test('mmlu: real test and dev sets as multiple choice', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const mmlu = new MMLU({ split: 'test', dataDir: dir });
  assert.equal(mmlu.size(), 14042);
  assert.equal(mmlu.evalType, 'categorical');
  const c = mmlu.get(0);
  assert.equal(
    c.messages[0].content,
    'Multiple Choice question: Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\n- 0=A\n- 4=B\n- 2=C\n- 6=D\n\nRespond only with the letter of the correct answer.',
  );
  assert.equal(c.messages[1].content, 'B');
  assert.deepEqual(c.letters, ['A', 'B', 'C', 'D']);
  assert.equal(c.meta?.subject, 'abstract_algebra');
  assert.equal(mmlu.evaluate(c, 'B'), true);
  assert.equal(mmlu.evaluate(c, ' B\n'), true);
  assert.equal(mmlu.evaluate(c, 'A'), false);
  const sliced = new MMLU({ split: 'test', dataDir: dir, stop: 5200 });
  assert.equal(sliced.size(), 5200);
  const dev = new MMLU({ split: 'dev', dataDir: dir, subjects: ['anatomy', 'virology'] });
  assert.equal(dev.size(), 10);
  assert.throws(() => new MMLU({ split: 'dev', dataDir: dir, subjects: ['astrology'] }), /unknown MMLU subject 'astrology'/);
});

test('arc: numeric labels map to letters; 3 to 5 choices', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const easy = new ARC({ subset: 'ARC-Easy', split: 'train', dataDir: dir });
  assert.equal(easy.size(), 2251);
  const sizes = new Set<number>();
  let numeric = 0;
  for (let i = 0; i < easy.size(); i++) {
    const c = easy.get(i);
    sizes.add(c.letters!.length);
    assert.ok(c.letters!.includes(c.messages[1].content as string));
    if (String(c.meta?.id).startsWith('NYSEDREGENTS')) numeric++;
  }
  assert.ok(sizes.has(3) && sizes.has(4) && sizes.has(5), `choice counts ${[...sizes]}`);
  // the row "Rocks are classified as ..." has labels 1-4 and answerKey "3": answer C
  const k = Array.from({ length: easy.size() }, (_, i) => i).find((i) => easy.get(i).meta?.id === 'NYSEDREGENTS_2006_8_10')!;
  const rocks = easy.get(k);
  assert.match(rocks.messages[0].content as string, /^Multiple Choice question: Rocks are classified as igneous, metamorphic, or sedimentary according to\n- their color=A\n- their shape=B\n- how they formed=C\n- the minerals they contain=D\n\n/);
  assert.equal(rocks.messages[1].content, 'C');
  assert.ok(numeric > 0);

  assert.equal(new ARC({ subset: 'ARC-Challenge', split: 'test', dataDir: dir }).size(), 1172);
  assert.equal(new ARC({ subset: 'ARC-Challenge', split: 'train', dataDir: dir }).size(), 1056);
  assert.equal(new ARC({ subset: 'ARC-Easy', split: 'test', dataDir: dir }).size(), 2376);
  assert.throws(() => new ARC({ subset: 'ARC-Challenge', split: 'validation', dataDir: dir }), /no ARC-Challenge validation split/);
});
