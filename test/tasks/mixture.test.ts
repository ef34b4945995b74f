import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Conversation } from '../../src/chat/conversation.js';
import { TaskMixture } from '../../src/tasks/mixture.js';
import { midTrainMixture, midValMixture, sftMixture, sftValTask } from '../../src/tasks/mixtures.js';
import { SlicedTask } from '../../src/tasks/task.js';
import { dataOrSkip } from './data-dir.js';

/** A task whose example i says which task and index it is. */
class Numbered extends SlicedTask {
  constructor(readonly name: string, private readonly n: number, opts = {}) {
    super(opts);
  }
  protected fullSize() {
    return this.n;
  }
  protected example(i: number): Conversation {
    return { messages: [{ role: 'user', content: `${this.name}:${i}` }] };
  }
}

const label = (c: Conversation) => c.messages[0].content as string;

test('slicing: start, stop, step like Python', () => {
  const t = new Numbered('t', 10, { start: 2, stop: 9, step: 3 });
  assert.equal(t.size(), 3);
  assert.deepEqual([0, 1, 2].map((i) => label(t.get(i))), ['t:2', 't:5', 't:8']);
  assert.throws(() => t.get(3), /out of range/);
  assert.equal(new Numbered('t', 10, { start: 20 }).size(), 0);
  assert.equal(new Numbered('t', 10, { stop: 100 }).size(), 10);
});

test('mixture: every example once, deterministic shuffle, oversampling by listing twice', () => {
  const a = new Numbered('a', 5);
  const b = new Numbered('b', 3);
  const empty = new Numbered('e', 0);
  const m = new TaskMixture([a, empty, b, b]);
  assert.equal(m.size(), 11);
  const labels = Array.from({ length: m.size() }, (_, i) => label(m.get(i)));
  const sortedLabels = [...labels].sort();
  assert.deepEqual(sortedLabels, ['a:0', 'a:1', 'a:2', 'a:3', 'a:4', 'b:0', 'b:0', 'b:1', 'b:1', 'b:2', 'b:2']);
  // shuffled, not in task order
  assert.notDeepEqual(labels, ['a:0', 'a:1', 'a:2', 'a:3', 'a:4', 'b:0', 'b:1', 'b:2', 'b:0', 'b:1', 'b:2']);
  // same seed, same order; other seed, other order
  const again = new TaskMixture([a, empty, b, b]);
  assert.deepEqual(Array.from({ length: 11 }, (_, i) => label(again.get(i))), labels);
  const other = new TaskMixture([a, empty, b, b], { seed: 7 });
  assert.notDeepEqual(Array.from({ length: 11 }, (_, i) => label(other.get(i))), labels);
  assert.deepEqual(m.counts().map((c) => c.size), [5, 0, 3, 3]);
  const s = m.source(0);
  assert.equal(label(m.get(0)), `${['a', 'e', 'b', 'b'][s.task]}:${s.index}`);
  assert.throws(() => new TaskMixture([]), /at least one task/);
});

test('mid-train and SFT mixtures from the real data', (t) => {
  const dir = dataOrSkip(t);
  if (!dir) return;
  const mid = midTrainMixture(dir);
  const counts = Object.fromEntries(mid.counts().map((c, k) => [`${k}:${c.name}`, c.size]));
  assert.deepEqual(counts, {
    '0:conversations-train': 8060,
    '1:mmlu-dev': 285,
    '2:arc-easy-train': 2251,
    '3:arc-challenge-train': 1056,
    '4:gsm8k-train': 7473,
    '5:identity': 591,
    '6:identity': 591,
    '7:simple-spelling-train': 7000,
    '8:spelling-bee-train': 3000,
  });
  assert.equal(mid.size(), Object.values(counts).reduce((x, y) => x + y, 0));
  for (let i = 0; i < 200; i++) assert.ok(mid.get(i).messages.length >= 2);

  const sft = sftMixture(dir, { author: 'Ada Lovelace' });
  assert.deepEqual(sft.counts().map((c) => c.size), [2251, 1056, 7473, 8060, 591, 300, 300]);
  assert.ok(midValMixture(dir).size() > 5620);
  assert.ok(sftValTask(dir).size() > 400);
});
