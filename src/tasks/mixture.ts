// A mixture of tasks: every example of every listed task, in one deterministic shuffled order.
// Listing a task twice includes its examples twice (oversampling), as the reference does with
// the identity conversations.

import type { Conversation } from '../chat/conversation.js';
import { SeededRandom } from '../tensor/random.js';
import type { Task } from './task.js';

const DEFAULT_MIXTURE_SEED = 42;

export class TaskMixture implements Task {
  readonly name: string;
  readonly tasks: readonly Task[];
  // example k of the mixture is example localIndex[k] of tasks[taskIndex[k]]
  private readonly taskIndex: Uint16Array;
  private readonly localIndex: Uint32Array;

  constructor(tasks: Task[], opts: { seed?: number; name?: string } = {}) {
    if (tasks.length === 0) throw new Error('a task mixture needs at least one task');
    if (tasks.length > 0xffff) throw new Error('too many tasks in one mixture');
    this.tasks = tasks;
    this.name = opts.name ?? `mixture(${tasks.map((t) => t.name).join(',')})`;
    const total = tasks.reduce((n, t) => n + t.size(), 0);
    const order = Array.from({ length: total }, (_, k) => k);
    new SeededRandom(opts.seed ?? DEFAULT_MIXTURE_SEED).shuffle(order);
    // map a flat position (task blocks laid end to end) to (task, index in task)
    const starts: number[] = [];
    let acc = 0;
    for (const t of tasks) {
      starts.push(acc);
      acc += t.size();
    }
    this.taskIndex = new Uint16Array(total);
    this.localIndex = new Uint32Array(total);
    order.forEach((flat, k) => {
      let t = 0;
      let lo = 0;
      let hi = starts.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (starts[mid] <= flat) {
          t = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      // skip empty tasks that share a start with the next one
      while (t + 1 < tasks.length && starts[t + 1] <= flat) t++;
      this.taskIndex[k] = t;
      this.localIndex[k] = flat - starts[t];
    });
  }

  size(): number {
    return this.taskIndex.length;
  }

  get(i: number): Conversation {
    if (!Number.isInteger(i) || i < 0 || i >= this.size()) throw new RangeError(`${this.name}: index ${i} out of range [0, ${this.size()})`);
    return this.tasks[this.taskIndex[i]].get(this.localIndex[i]);
  }

  /** which task (by position in the list) and which of its examples position i is */
  source(i: number): { task: number; index: number } {
    return { task: this.taskIndex[i], index: this.localIndex[i] };
  }

  /** how many examples each listed task contributes */
  counts(): { name: string; size: number }[] {
    return this.tasks.map((t) => ({ name: t.name, size: t.size() }));
  }
}
