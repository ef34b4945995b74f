// The activation arena: buffers for one step's activations and their gradients, reused every step.
//
// A training step allocates the same buffer sizes in the same order each time, so after the first
// step every alloc is served from the free lists and the garbage collector has nothing to do: a
// 10,000-step run neither grows nor stalls. Parameters and optimizer state never come from here.
//
// Evaluation and generation feed many different shapes (prompt lengths vary). Two rules keep that
// bounded: buffers come in size classes (4 per power of two, at most 19% slack; callers get an exact
// length view), so nearby sizes share buffers; and a reset that finds the arena holding more than
// twice its largest step (and over 256 MiB) lets the spare buffers go.
//
// reset() hands every buffer back at once; tensors from before a reset carry an older generation
// and refuse to be read (Tensor checks), so a stale activation is an error instead of silent garbage.

import type { Backend, Buf } from './backend.js';
import { getBackend } from './backends.js';

/** Smallest size class holding n floats: multiples of 2^(floor(log2 n) - 2), at least 16. */
function sizeClass(n: number): number {
  if (n <= 16) return 16;
  const step = 2 ** (Math.floor(Math.log2(n)) - 2);
  return Math.ceil(n / step) * step;
}

const KEEP_BYTES = 256 * 2 ** 20;

export class Arena {
  /** the backend whose storage the buffers are: a switch of backend (tests run each) drops the free lists */
  private owner: Backend | undefined;
  private free = new Map<number, Buf[]>();
  private used: Buf[] = [];
  private usedBytes = 0;
  /** the most bytes one step (between resets) has used */
  private stepHigh = 0;
  /** bumped on every reset */
  generation = 0;
  /** bytes held (free + used), for memory reports */
  bytes = 0;

  /** A buffer of exactly n floats. Contents are undefined (whatever the last step left) unless zero is true. */
  alloc(n: number, zero = false): Buf {
    const be = getBackend();
    if (be !== this.owner) this.switchTo(be);
    const cap = sizeClass(n);
    let big = this.free.get(cap)?.pop();
    if (!big) {
      big = be.alloc(cap);
      this.bytes += 4 * cap;
    } else if (zero) be.fill(big, 0, n);
    this.used.push(big);
    this.usedBytes += 4 * cap;
    return big.subarray(0, n);
  }

  /** Return every buffer handed out since the last reset; let spare ones go if the arena has grown past twice its largest step. */
  reset(): void {
    this.stepHigh = Math.max(this.stepHigh, this.usedBytes);
    for (const b of this.used) {
      let list = this.free.get(b.length);
      if (!list) this.free.set(b.length, (list = []));
      list.push(b);
    }
    this.used.length = 0;
    this.usedBytes = 0;
    this.generation++;
    if (this.bytes > Math.max(KEEP_BYTES, 2 * this.stepHigh)) this.clear();
  }

  /** Start over on another backend's storage: buffers of the previous one are forgotten, never handed out again. */
  private switchTo(be: Backend): void {
    this.clear();
    this.used.length = 0;
    this.usedBytes = 0;
    this.bytes = 0;
    this.owner = be;
  }

  /** Drop every free buffer (e.g. when switching from training to a differently shaped evaluation). */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) this.owner?.release(b);
    this.free.clear();
    this.bytes = 0;
    for (const b of this.used) this.bytes += 4 * b.length;
    this.generation++;
  }
}
