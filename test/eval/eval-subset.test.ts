// Every evaluation with a problem limit scores the seeded sample of tasks/subset.ts, not the head of the
// task: the letter tasks (chat-eval and chat-sft's quick checks), the generative ones, and chat-rl's
// pass@k. Each runs on a task that records which problems it was asked for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateCategorical } from '../../src/eval/categorical.js';
import { evaluateGenerative } from '../../src/eval/chat-eval.js';
import { passAtK } from '../../src/commands/chat-rl.js';
import { Engine } from '../../src/engine/engine.js';
import { shuffledIndices } from '../../src/tasks/subset.js';
import type { EvalTask } from '../../src/tasks/task.js';
import { tinyGpt } from '../engine/helpers.js';
import { sortedSubjectsTask } from '../tasks/sorted-task.js';
import { byteBpe } from '../helpers/byte-bpe.js';

/** The task, recording every index asked of get(). */
function recording(task: EvalTask, asked: number[]): EvalTask {
  return { ...task, size: () => task.size(), get: (i) => (asked.push(i), task.get(i)), evaluate: task.evaluate, reward: task.reward };
}

const tok = byteBpe();
const model = tinyGpt(tok.vocabSize, { sequenceLen: 128 });
const task = sortedSubjectsTask(20, 10);
const want = shuffledIndices(task.size(), 12);

test('letter scoring with --max-problems visits the seeded sample, in its order', async () => {
  const asked: number[] = [];
  const r = await evaluateCategorical(model, tok, recording(task, asked), { maxProblems: 12, batchSize: 5 });
  assert.equal(r.total, 12);
  assert.deepEqual(asked, want);
});

test('generative scoring and pass@k with a problem limit visit the seeded sample', async () => {
  const engine = new Engine(model, tok);
  const generative: EvalTask = { ...task, evalType: 'generative' };
  const asked: number[] = [];
  const r = await evaluateGenerative(engine, tok, recording(generative, asked), { maxProblems: 12, maxNewTokens: 1 });
  assert.equal(r.total, 12);
  assert.deepEqual(asked, want);
  const askedRl: number[] = [];
  await passAtK(engine, tok, recording(generative, askedRl), 12, 2, { maxNewTokens: 1, temperature: 1, topK: 5, seed: 7 });
  assert.deepEqual(askedRl, want);
});
