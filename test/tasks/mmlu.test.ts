import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMmlu } from '../../src/tasks/mmlu.js';
import { dataOrSkip } from './data-dir.js';

test('mmlu: the real MMLU files parse to the published row counts', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const test = loadMmlu(dir, 'test');
  const dev = loadMmlu(dir, 'dev');
  assert.equal(test.length, 14042);
  assert.equal(dev.length, 285);
  assert.equal(new Set(test.map((r) => r.subject)).size, 57);
  const first = test[0];
  assert.equal(first.subject, 'abstract_algebra');
  assert.equal(first.question, 'Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.');
  assert.deepEqual(first.choices, ['0', '4', '2', '6']);
  assert.equal(first.answer, 1);
  // quirks really present in the data: fields with newlines and with quotes
  assert.ok(test.some((r) => r.question.includes('\n')), 'a question with a newline');
  assert.ok(test.some((r) => r.question.includes('"')), 'a question with a quote');
  assert.ok(test.some((r) => r.choices.some((c) => c.includes(','))), 'a choice with a comma');
});
