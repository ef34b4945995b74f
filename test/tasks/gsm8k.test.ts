import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderConversation } from '../../src/chat/render.js';
import { UserError } from '../../src/common/errors.js';
import { calculate } from '../../src/engine/calculator.js';
import { extractFinalAnswer, sameAnswer } from '../../src/tasks/answers.js';
import { GSM8K, gsm8kAnswerParts } from '../../src/tasks/gsm8k.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';
import { dataOrSkip } from './data-dir.js';

test('gsm8k: annotations become python + python_output parts', () => {
  assert.deepEqual(gsm8kAnswerParts('Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72'), [
    { type: 'text', text: 'Natalia sold 48/2 = ' },
    { type: 'python', text: '48/2' },
    { type: 'python_output', text: '24' },
    { type: 'text', text: '24 clips in May.\n#### 72' },
  ]);
  assert.deepEqual(gsm8kAnswerParts('<<1+1=2>>'), [
    { type: 'python', text: '1+1' },
    { type: 'python_output', text: '2' },
  ]);
});

test('gsm8k: final answers are extracted with commas removed, compared as exact strings', () => {
  assert.equal(extractFinalAnswer('so... #### 1,234'), '1234');
  assert.equal(extractFinalAnswer('#### -5'), '-5');
  assert.equal(extractFinalAnswer('#### 3.5'), '3.5');
  // the trailing period stays, as the reference's regex keeps it: "#### 18." is not the answer 18
  // (we used to strip it and accept "18.0" too; the reference's evaluation and RL reward do not)
  assert.equal(extractFinalAnswer('#### 18.'), '18.');
  assert.equal(extractFinalAnswer('the answer is 18'), null);
  assert.equal(sameAnswer('18', '18'), true);
  assert.equal(sameAnswer('18.0', '18'), false);
  assert.equal(sameAnswer('18.', '18'), false);
  assert.equal(sameAnswer(null, '18'), false);
  assert.equal(sameAnswer('', ''), false);
});

test('gsm8k: a missing file is a UserError naming the file and the fix', () => {
  assert.throws(
    () => new GSM8K({ split: 'train', dataDir: '/nonexistent-data' }),
    (e: Error) => e instanceof UserError && e.message.includes('/nonexistent-data/gsm8k/train.jsonl') && e.message.includes('nanochat data download --only gsm8k'),
  );
});

test('gsm8k: real train/test rows, conversion, scoring', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const train = new GSM8K({ split: 'train', dataDir: dir });
  const testSet = new GSM8K({ split: 'test', dataDir: dir });
  assert.equal(train.size(), 7473);
  assert.equal(testSet.size(), 1319);

  const c = train.get(0);
  assert.equal(c.messages[0].content, 'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?');
  assert.deepEqual(c.messages[1].content, [
    { type: 'text', text: 'Natalia sold 48/2 = ' },
    { type: 'python', text: '48/2' },
    { type: 'python_output', text: '24' },
    { type: 'text', text: '24 clips in May.\nNatalia sold 48+24 = ' },
    { type: 'python', text: '48+24' },
    { type: 'python_output', text: '72' },
    { type: 'text', text: '72 clips altogether in April and May.\n#### 72' },
  ]);
  assert.equal(train.evaluate(c, 'blah\n#### 72'), true);
  assert.equal(train.evaluate(c, '#### 73'), false);
  assert.equal(train.evaluate(c, 'no answer'), false);
  assert.equal(train.reward(c, '#### 72'), 1);
  assert.equal(train.evaluate(c, '#### 72.0'), false);
  assert.equal(train.reward(c, 'So the answer is #### 72.'), 0);

  // over every row: the parts rebuild the original solution, and our calculator agrees with the
  // annotated result (the tool answers at inference what the model saw in training)
  const tok = new ByteTokenizer({ spellSpecials: true });
  let calls = 0;
  let agree = 0;
  const disagreements: string[] = [];
  for (const task of [train, testSet]) {
    for (let i = 0; i < task.size(); i++) {
      const conv = task.get(i);
      const parts = conv.messages[1].content;
      assert.ok(Array.isArray(parts));
      let rebuilt = '';
      for (let k = 0; k < parts.length; k++) {
        const p = parts[k];
        if (p.type === 'text') rebuilt += p.text;
        else if (p.type === 'python') {
          rebuilt += `<<${p.text}=${parts[k + 1].text}>>`;
          calls++;
          const r = calculate(p.text);
          if (r.ok && Number(r.value) === Number(parts[k + 1].text)) agree++;
          else if (disagreements.length < 5) disagreements.push(`${p.text} = ${parts[k + 1].text} vs ${JSON.stringify(r)}`);
        }
      }
      assert.ok(rebuilt.endsWith(`#### ${conv.meta?.answer}`) || rebuilt.includes('#### '), `row ${i}`);
      if (i < 50) renderConversation(tok, conv); // renders without error
    }
  }
  assert.equal(calls, 27998);
  // GSM8K's annotated results are sometimes rounded by the annotators; nearly all must match
  assert.ok(agree / calls > 0.97, `calculator agrees on ${agree}/${calls}; e.g. ${disagreements.join('; ')}`);
});
