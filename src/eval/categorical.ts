// Multiple-choice evaluation by letter logits (ARC, MMLU): render the question for completion,
// run the model once, and among the logits of the allowed answer letters at the answer position pick
// the largest. No sampling, so the score is deterministic and cheap (one forward per question).
//
// Prompts are batched with right padding: the model is causal, so padding after a prompt never
// changes the logits at the prompt's last position. Prompts longer than the context keep their end.

import type { GPT } from '../model/gpt.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import type { EvalTask } from '../tasks/task.js';
import { shuffledSubset } from '../tasks/subset.js';
import { renderForCompletion } from '../chat/render.js';
import { arena, noGrad } from '../tensor/tensor.js';
import { getBackend } from '../tensor/backends.js';
import { bucketLength } from './buckets.js';

export interface AccuracyResult {
  task: string;
  correct: number;
  total: number;
  accuracy: number;
}

/** Token id of each answer letter (each must encode to exactly one token). */
function letterIds(tok: TextTokenizer, letters: readonly string[]): number[] {
  return letters.map((l) => {
    const ids = tok.encode(l);
    if (ids.length !== 1) throw new Error(`answer letter '${l}' is ${ids.length} tokens in this tokenizer; letter scoring needs one`);
    return ids[0];
  });
}

export async function evaluateCategorical(
  model: GPT,
  tok: TextTokenizer,
  task: EvalTask,
  opts: { maxProblems?: number; batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<AccuracyResult> {
  // --max-problems takes a seeded sample of the whole task, not its head (tasks/subset.ts)
  const sample = shuffledSubset(task, opts.maxProblems);
  const total = sample.size();
  const bs = opts.batchSize ?? 8;
  const ctx = model.config.sequenceLen;
  const Vp = model.vocabPadded;
  let correct = 0;
  // called between training steps too (chat-sft): leave room for the training buffers already held,
  // so they are not dropped and rebuilt after every eval
  opts.onProgress?.(0, total);
  for (let start = 0; start < total; start += bs) {
    const convs = Array.from({ length: Math.min(bs, total - start) }, (_, i) => sample.get(start + i));
    const prompts = convs.map((c) => renderForCompletion(tok, c).slice(-ctx));
    // rounded up so batches share arena buffers (see buckets.ts); right padding never changes a prompt's last logits
    const T = bucketLength(Math.max(...prompts.map((p) => p.length)));
    const B = prompts.length;
    const ids = new Int32Array(B * T);
    prompts.forEach((p, b) => ids.set(p, b * T));
    // only each prompt's last position matters: copy those rows, not the whole B x T x vocab array (on a device
    // that is also what crosses the bus)
    const { logits } = noGrad(() => model.forward(ids, B, T));
    logits.checkAlive();
    const last = await Promise.all(prompts.map((p, b) =>
      getBackend().read(logits.data.subarray((b * T + p.length - 1) * Vp, (b * T + p.length) * Vp))));
    arena.reset();
    convs.forEach((conv, b) => {
      const letters = conv.letters;
      if (!letters) throw new Error(`${task.name} example ${start + b} has no answer letters: not a categorical task`);
      const cand = letterIds(tok, letters);
      const row = last[b];
      let best = 0;
      for (let k = 1; k < cand.length; k++) if (row[cand[k]] > row[cand[best]]) best = k;
      if (task.evaluate(conv, letters[best])) correct++;
    });
    opts.onProgress?.(Math.min(start + bs, total), total);
  }
  return { task: task.name, correct, total, accuracy: total ? correct / total : 0 };
}
