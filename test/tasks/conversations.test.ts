import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentText } from '../../src/chat/conversation.js';
import { EVAL_ONLY_FILES, GENERAL_CONVERSATION_FILES, GeneralConversations, HOLDOUT_EVERY } from '../../src/tasks/conversations.js';
import { DEFAULT_AUTHOR, IdentityConversations, rewriteVicunaIdentity } from '../../src/tasks/identity.js';
import { dataOrSkip } from './data-dir.js';

test('identity: Vicuna/LMSYS names are rewritten, sentence starts stay capitalized', () => {
  const a = 'the nanochat-ts developers';
  assert.equal(
    rewriteVicunaIdentity('I am Vicuna, a language model trained by researchers from Large Model Systems Organization (LMSYS).', a),
    'I am nanochat, a language model trained by the nanochat-ts developers.',
  );
  assert.equal(rewriteVicunaIdentity('Researchers from Large Model Systems Organization (LMSYS) created me.', a), 'The nanochat-ts developers created me.');
  assert.equal(
    rewriteVicunaIdentity('I was trained by Large Model Systems Organization (LMSYS) researchers as a language model.', a),
    'I was trained by the nanochat-ts developers as a language model.',
  );
  assert.equal(rewriteVicunaIdentity('Are you trained by OpenAI?', a), 'Are you trained by OpenAI?');
});

test('general conversations: eval sets excluded, train/test split disjoint', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  for (const f of EVAL_ONLY_FILES) assert.ok(!(GENERAL_CONVERSATION_FILES as readonly string[]).includes(f));
  assert.throws(() => new GeneralConversations({ split: 'train', dataDir: dir, files: ['mt_bench_questions.jsonl'] }), /evaluation set/);
  const train = new GeneralConversations({ split: 'train', dataDir: dir });
  const testSplit = new GeneralConversations({ split: 'test', dataDir: dir });
  assert.equal(train.size() + testSplit.size(), 999 + 1923 + 4535 + 1029);
  assert.ok(testSplit.size() >= 8476 / HOLDOUT_EVERY);
  const key = (i: number, task: GeneralConversations) => `${task.get(i).meta?.source}#${task.get(i).meta?.index}`;
  const trainKeys = new Set(Array.from({ length: train.size() }, (_, i) => key(i, train)));
  for (let i = 0; i < testSplit.size(); i++) assert.ok(!trainKeys.has(key(i, testSplit)));
  assert.equal(new GeneralConversations({ split: 'train', dataDir: dir, stop: 100 }).size(), 100);
});

test('identity conversations: names filled in, author configurable', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const id = new IdentityConversations({ dataDir: dir });
  assert.equal(id.size(), 91 + 500);
  let mentionsName = 0;
  for (let i = 0; i < id.size(); i++) {
    for (const m of id.get(i).messages) {
      const text = contentText(m.content);
      assert.doesNotMatch(text, /Vicuna|LMSYS|Large Model Systems|\{\{|\}\}/, `conversation ${i}`);
      if (m.role === 'assistant' && text.includes('nanochat')) mentionsName++;
    }
  }
  assert.ok(mentionsName > 100);
  assert.ok(contentText(id.get(0).messages[1].content).includes(DEFAULT_AUTHOR));
  const other = new IdentityConversations({ dataDir: dir, author: 'Ada Lovelace' });
  assert.equal(contentText(other.get(0).messages[1].content), 'Hello! I am nanochat, an AI assistant developed by Ada Lovelace. How can I assist you today?');
});
