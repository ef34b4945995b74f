// RL learns: on an easy, checkable task the mean reward rises from a weak start; every question's
// advantages sum to zero; forced and prompt tokens carry no weight.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GPT } from '../../src/model/gpt.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { rollout } from '../../src/commands/chat-rl.js';
import { Engine } from '../../src/engine/engine.js';
import { mul, sum } from '../../src/tensor/ops.js';
import { Tensor, arena } from '../../src/tensor/tensor.js';
import type { EvalTask } from '../../src/tasks/task.js';
import type { Conversation } from '../../src/chat/conversation.js';
import { ByteTokenizer } from '../helpers/byte-tokenizer.js';

const tok = new ByteTokenizer();

/** "Say something": reward 1 when the answer starts with a lowercase letter (about 10% of random bytes). */
const task: EvalTask = {
  name: 'starts-lowercase',
  evalType: 'generative',
  size: () => 8,
  get: (i): Conversation => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'a' }] }),
  evaluate: (_c, text) => /^[a-z]/.test(text),
  reward: (_c, text) => (/^[a-z]/.test(text) ? 1 : 0),
};

test('REINFORCE on an easy task: mean reward rises over a few dozen steps; advantages sum to zero', async () => {
  const model = new GPT({ vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nKvHead: 2, nEmbd: 32, sequenceLen: 32 });
  model.initWeights(5);
  const opt = new Optimizer(model.paramGroups({ embedding: 0.01, unembedding: 0.004, matrix: 0.005 }));
  const engine = new Engine(model, tok);
  const perStep = 4, rewards: number[] = [];
  for (let step = 0; step < 30; step++) {
    let stepReward = 0;
    for (let q = 0; q < perStep; q++) {
      const r = await rollout(engine, tok, task, task.get(q), { numSamples: 8, maxNewTokens: 3, temperature: 1, topK: 265, seed: step * 100 + q, questionsPerStep: perStep });
      assert.ok(Math.abs(r.advantages.reduce((a, b) => a + b, 0)) < 1e-9, 'the advantages of a question sum to zero');
      const b = r.batch;
      for (let i = 0; i < b.targets.length; i++) if (b.targets[i] === -1) assert.equal(b.weights![i], 0, 'untrained positions carry no weight');
      const nll = model.forward(b.inputs, b.B!, b.T!, b.targets, 'none').loss!;
      sum(mul(nll, Tensor.from(b.weights!, [b.B! * b.T!]))).backward();
      arena.reset();
      stepReward += r.rewards.reduce((a, c) => a + c, 0) / r.rewards.length;
    }
    opt.stepAll();
    opt.zeroGrad();
    rewards.push(stepReward / perStep);
  }
  const early = rewards.slice(0, 2).reduce((a, b) => a + b, 0) / 2, late = rewards.slice(-5).reduce((a, b) => a + b, 0) / 5;
  assert.ok(early < 0.3, `a weak start: early mean reward ${early.toFixed(3)} (${rewards.map((r) => r.toFixed(2)).join(' ')})`);
  assert.ok(late > early + 0.3 && late > 0.6, `mean reward should rise: ${early.toFixed(3)} -> ${late.toFixed(3)} (${rewards.map((r) => r.toFixed(2)).join(' ')})`);
});
