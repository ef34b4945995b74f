// A problem limit takes a seeded sample of the whole task, not its head: on a task sorted by subject
// (MMLU's files are), 64 problems must span many subjects; the same seed picks the same problems.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatEvalTask } from '../../src/tasks/registry.js';
import { shuffledIndices, shuffledSubset } from '../../src/tasks/subset.js';
import type { EvalTask } from '../../src/tasks/task.js';
import { dataOrSkip } from './data-dir.js';
import { sortedSubjectsTask } from './sorted-task.js';

const subjectsOf = (task: EvalTask): Set<unknown> => new Set(Array.from({ length: task.size() }, (_, i) => task.get(i).meta?.subject));

test('subset: 64 problems of a task sorted by subject cover many subjects (the head covers one)', () => {
  const task = sortedSubjectsTask();
  const head = new Set(Array.from({ length: 64 }, (_, i) => task.get(i).meta?.subject));
  assert.equal(head.size, 1, 'the first 64 problems are all one subject: what the shuffle is for');
  const sample = shuffledSubset(task, 64);
  assert.equal(sample.size(), 64);
  // 64 draws from 57 equal subjects: about 38 distinct expected
  const covered = subjectsOf(sample).size;
  assert.ok(covered >= 20, `64 sampled problems cover only ${covered} of 57 subjects`);
  // the sample is scored by the task itself
  const conv = sample.get(0);
  assert.equal(sample.evaluate(conv, conv.meta!.answer as string), true);
  assert.throws(() => sample.get(64), /out of range/);
});

test('subset: the same seed picks the same problems, another seed others; indices are distinct and in range', () => {
  const a = shuffledIndices(5700, 64), b = shuffledIndices(5700, 64), c = shuffledIndices(5700, 64, 43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(new Set(a).size, 64);
  assert.ok(a.every((i) => Number.isInteger(i) && i >= 0 && i < 5700));
  // no limit: a permutation of every problem; a limit beyond the size: all of them
  assert.deepEqual([...shuffledIndices(100)].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.equal(shuffledIndices(10, 50).length, 10);
  // a smaller limit is the head of the same permutation: raising --max-problems only adds problems
  assert.deepEqual(shuffledIndices(5700, 10), a.slice(0, 10));
  const task = sortedSubjectsTask();
  assert.deepEqual(shuffledSubset(task, 8).get(3), task.get(a[3]));
});

test('subset: --max-problems 64 on the real MMLU test set covers at least 20 of its 57 subjects', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const mmlu = chatEvalTask('MMLU', dir);
  assert.equal(mmlu.get(63).meta?.subject, 'abstract_algebra', 'the file order starts with one subject');
  const covered = subjectsOf(shuffledSubset(mmlu, 64)).size;
  assert.ok(covered >= 20, `64 sampled MMLU questions cover only ${covered} subjects`);
});
