// Which problems an evaluation with a problem limit sees: a seeded sample of the whole task, never its
// head. The files are sorted (MMLU by subject, alphabetically: its first 64 questions are all abstract
// algebra), so the first N measure one corner of the task. As the reference, every eval task is
// shuffled with seed 42 before the limit applies, so N problems are a sample of all of them and the
// same seed always picks the same ones. The permutation is ours (Fisher-Yates over mulberry32), not
// the one Hugging Face's datasets.shuffle(seed=42) makes, so the subset differs from the reference's
// (and a full run scores the same either way).

import { SeededRandom } from '../tensor/random.js';
import type { EvalTask } from './task.js';

/** The reference's seed for the order of every eval task. */
export const EVAL_SHUFFLE_SEED = 42;

/** The first min(n, size) entries of a seeded Fisher-Yates permutation of [0, size). */
export function shuffledIndices(size: number, n = size, seed = EVAL_SHUFFLE_SEED): number[] {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`size must be a non-negative integer, got ${size}`);
  const order = Array.from({ length: size }, (_, i) => i);
  new SeededRandom(seed).shuffle(order);
  return order.slice(0, Math.max(0, Math.min(n, size)));
}

/** `task` restricted to n problems drawn by shuffledIndices (all of them, reordered, when n is undefined). */
export function shuffledSubset(task: EvalTask, n?: number, seed = EVAL_SHUFFLE_SEED): EvalTask {
  const order = shuffledIndices(task.size(), n ?? task.size(), seed);
  return {
    name: task.name,
    evalType: task.evalType,
    size: () => order.length,
    get: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= order.length) {
        throw new RangeError(`${task.name}: index ${i} out of range [0, ${order.length})`);
      }
      return task.get(order[i]);
    },
    evaluate: (conv, completion) => task.evaluate(conv, completion),
    reward: (conv, completion) => task.reward(conv, completion),
  };
}
