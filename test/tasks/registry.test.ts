import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHAT_EVAL_TASKS, chatEvalTask } from '../../src/tasks/registry.js';
import { dataOrSkip } from './data-dir.js';

test('chat eval tasks by name: test splits with their eval types', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const sizes = Object.fromEntries(CHAT_EVAL_TASKS.map((n) => {
    const task = chatEvalTask(n, dir, n === 'MMLU' ? { stop: 100 } : {});
    return [n, `${task.evalType}:${task.size()}`];
  }));
  assert.deepEqual(sizes, {
    'ARC-Easy': 'categorical:2376',
    'ARC-Challenge': 'categorical:1172',
    MMLU: 'categorical:100',
    GSM8K: 'generative:1319',
    SpellingBee: 'generative:256',
  });
});
