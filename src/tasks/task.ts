// The common shape of every chat task (training mixtures and chat evals): a finite, indexable list of conversations,
// optionally sliced; tasks that can be scored also know how to judge a model's answer.

import type { Conversation } from '../chat/conversation.js';

export interface Task {
  readonly name: string;
  /** number of examples (after slicing) */
  size(): number;
  /** example i, 0 <= i < size(); deterministic: the same i always gives the same conversation */
  get(i: number): Conversation;
}

/**
 * A task with a score. 'categorical' tasks (MMLU, ARC) are scored by comparing the logits of the
 * answer letters (conv.letters) at the answer position; the completion passed to evaluate() is
 * the chosen letter. 'generative' tasks (GSM8K, spelling) are scored on sampled text.
 */
export interface EvalTask extends Task {
  readonly evalType: 'categorical' | 'generative';
  /** true when the completion answers example `conv` correctly */
  evaluate(conv: Conversation, completion: string): boolean;
  /** RL reward for a completion (1 correct, 0 otherwise unless the task says more) */
  reward(conv: Conversation, completion: string): number;
}

/** Python-style slicing of a task: examples start, start+step, ... below stop. */
export interface SliceOptions {
  start?: number;
  stop?: number;
  step?: number;
}

/** Base class doing the slicing: subclasses give the full count and the unsliced example. */
export abstract class SlicedTask implements Task {
  abstract readonly name: string;
  private readonly start: number;
  private readonly stop: number | undefined;
  private readonly step: number;

  constructor(opts: SliceOptions = {}) {
    this.start = opts.start ?? 0;
    this.stop = opts.stop;
    this.step = opts.step ?? 1;
    if (!Number.isInteger(this.start) || this.start < 0) throw new RangeError(`start must be a non-negative integer, got ${this.start}`);
    if (!Number.isInteger(this.step) || this.step < 1) throw new RangeError(`step must be a positive integer, got ${this.step}`);
    if (this.stop !== undefined && (!Number.isInteger(this.stop) || this.stop < 0)) throw new RangeError(`stop must be a non-negative integer, got ${this.stop}`);
  }

  /** number of examples before slicing */
  protected abstract fullSize(): number;
  /** example i before slicing */
  protected abstract example(i: number): Conversation;

  size(): number {
    const stop = Math.min(this.stop ?? Infinity, this.fullSize());
    return stop <= this.start ? 0 : Math.ceil((stop - this.start) / this.step);
  }

  get(i: number): Conversation {
    if (!Number.isInteger(i) || i < 0 || i >= this.size()) throw new RangeError(`${this.name}: index ${i} out of range [0, ${this.size()})`);
    return this.example(this.start + i * this.step);
  }
}

/** A sliced task with a score; its RL reward is 1 for a correct completion and 0 otherwise. */
export abstract class SlicedEvalTask extends SlicedTask implements EvalTask {
  abstract readonly evalType: 'categorical' | 'generative';
  abstract evaluate(conv: Conversation, completion: string): boolean;

  reward(conv: Conversation, completion: string): number {
    return this.evaluate(conv, completion) ? 1 : 0;
  }
}
